"""Error types and exit codes: the one place where problems get their shape."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

# Every exit code bakegen uses.
EXIT_OK = 0
EXIT_DRIFT = 1  # `render --check` found files that would change
EXIT_INVALID = 2  # a bad manifest, template, workspace or command line
EXIT_INTERNAL = 70  # a bug in bakegen (EX_SOFTWARE)
EXIT_OUTPUT = 74  # standard output or error could not be written (EX_IOERR)
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT); other signals give 128 + their number

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """`text` with every character that could break or hide a line escaped: one line, always.

    Messages quote the manifest's own text; a newline, an ANSI escape or a bidi override in a key
    or value must not start a new line on the terminal or disguise the message.
    """
    if text.isprintable():
        return text
    return "".join(
        c
        if c.isprintable()
        else _ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        for c in text
    )


def format_path(path: KeyPath) -> str:
    """Render a key path as `a.b[0].c`; the empty path is `<root>`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "<root>"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, printed as one line."""

    location: Location | None
    path: KeyPath
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return one_line(f"{where}{format_path(self.path)}: {self.message}")

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location or Location("", 0, 0)
        return (loc.file, loc.line, loc.column, self.message)


class BakegenError(Exception):
    """Base of every error that becomes a message and an exit code at the CLI."""

    exit_code = EXIT_INVALID

    def lines(self) -> list[str]:
        return [one_line(str(self))]


class ManifestError(BakegenError):
    """The manifest (or a template) is wrong; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        # One mistake inside an anchor shows up under every key that merges it: report it once,
        # at its place, under the first key path.
        first: dict[tuple[Location | None, str], Problem] = {}
        for problem in sorted(set(problems), key=lambda p: (p.sort_key(), format_path(p.path))):
            first.setdefault((problem.location, problem.message), problem)
        self.problems = list(first.values())
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class UsageError(BakegenError):
    """A bad command line or workspace, reported as one line."""


class OutputConflict(BakegenError):
    """Files in the way of the output that bakegen must not replace; one line each."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))

    def lines(self) -> list[str]:
        return [one_line(m) for m in self.messages]


class WriteFailed(BakegenError):
    """The output could not be written (a full disk, a read-only folder); all rolled back."""


class Drift(BakegenError):
    """`render --check` found files that would change."""

    exit_code = EXIT_DRIFT


class OutputUnwritable(BakegenError):
    """Standard output or error cannot be written (closed, a full disk, a closed pipe)."""

    exit_code = EXIT_OUTPUT


class Interrupted(BaseException):
    """A termination signal arrived: everything in progress rolls back, as for Ctrl-C."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.signum = signum
        self.name = name


def did_you_mean(word: str, choices: Iterable[str], *, most: int = 1) -> str:
    """The hint every "not found" message ends with: `; did you mean 'x'?`, or nothing when no
    choice is close (up to `most` suggestions)."""
    close = difflib.get_close_matches(word, list(choices), n=most, cutoff=0.6)
    shown = ", ".join(f"'{c}'" for c in close)
    return f"; did you mean {shown}?" if close else ""
