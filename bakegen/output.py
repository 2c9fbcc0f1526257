"""Output for people and machines: whole lines whatever the terminal width, user text never
read as markup, colour only on a terminal (never with NO_COLOR), tables only on a terminal.

Text from the manifest or the environment (a tag holding VERSION, a test's command) is shown
through `errors.one_line`, the one escaping of control characters: in table cells (`table`),
in Markdown (`markdown_text`, `markdown_code`) and in shell commands (`shell_words`, which stay
commands a shell runs as they are). JSON needs none: `json.dumps` escapes them itself.

rich is imported only when a console is made: commands that print plain lines off a terminal
use `Lines`, which prints them the same way without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from bakegen.errors import OutputUnwritable, one_line

if TYPE_CHECKING:
    from rich.console import Console


def console(
    *, stderr: bool = False, file: TextIO | None = None, width: int | None = None
) -> Console:
    """A console that prints text as given: no markup, no emoji codes, no highlighting, and
    no wrapping (soft wrap), so a pipe or a CI log gets whole lines."""
    from rich.console import Console

    return Console(
        stderr=stderr,
        file=file,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=True,
    )


def table(out: Console, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-separated whole lines (with a header) anywhere else; control
    characters in the cells (a tab, a newline, an escape sequence) escaped either way."""
    rows = [[one_line(cell) for cell in row] for row in rows]
    if out.is_terminal:
        from rich.table import Table

        grid = Table(*columns)
        for row in rows:
            grid.add_row(*row)
        out.print(grid, soft_wrap=False)
        return
    for row in [list(columns), *rows]:  # written as they are: rich would expand the tabs
        out.file.write("\t".join(row) + "\n")


# Markdown's punctuation that can start markup inside a line (`|` ends a table cell).
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!&|~$])")


def markdown_text(text: str) -> str:
    """`text` as Markdown showing it as it is, on one line (a table cell, a heading): control
    characters and newlines escaped (`one_line`), Markdown's punctuation and a leading '#'
    backslash-escaped, so it never ends a table cell, starts a heading or becomes markup."""
    escaped = _MARKDOWN.sub(r"\\\1", one_line(text))
    return "\\" + escaped if escaped.startswith("#") else escaped


def markdown_code(text: str) -> str:
    """`text` as inline code, or as `markdown_text` when code cannot hold it (a backtick, or a
    '|', which ends a table cell even in code)."""
    shown = one_line(text)
    return f"`{shown}`" if "`" not in shown and "|" not in shown else markdown_text(text)


def shell_words(words: Sequence[str]) -> str:
    """`words` as one line a POSIX shell runs as these words: each quoted as `shlex.quote`
    quotes it, or, when it holds a character that is not printable (a newline, an escape
    sequence), in ANSI-C quotes (`$'...'`: bash, zsh, ksh, POSIX sh since 2024) with that
    character escaped, so the line stays one line that shows what it runs."""
    return " ".join(shlex.quote(w) if w.isprintable() else _ansi_c(w) for w in words)


def _ansi_c(word: str) -> str:
    def one(c: str) -> str:
        if c in "\\'":
            return "\\" + c
        if c.isprintable() or ord(c) < 0x80:  # one_line's \n, \t, \xHH mean the same in $'...'
            return one_line(c)
        # There \xHH is a byte, not a character: past ASCII, \u or \U.
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return "$'" + "".join(one(c) for c in word) + "'"


class Deferred:
    """A `console()` made when first used: a command that prints nothing through it (`--help`)
    never loads rich."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            self._console = console(stderr=self._stderr)
        return getattr(self._console, name)


class Lines:
    """Whole lines on standard output or error, printed as a `console()` prints text off a
    terminal (text that is printable, as every message is after `errors.one_line`)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr

    @property
    def file(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        return self.file.isatty()

    def print(self, text: str) -> None:
        self.file.write(text + "\n")


def progress(err: Any, what: str) -> contextlib.AbstractContextManager[Any]:
    """A spinner on a terminal (gone when done); nothing in pipes, files or CI logs."""
    if not err.is_terminal or os.environ.get("CI") or os.environ.get("NO_COLOR"):
        return contextlib.nullcontext()
    status: contextlib.AbstractContextManager[Any] = err.status(f"{what}...", spinner="dots")
    return status


class Streams:
    """Where a command prints: `out` (its results) and `err` (what it says about them), each a
    `console()`, `Lines` or `Deferred`; text for machines goes to standard output as it is."""

    def __init__(self, out: Any, err: Any) -> None:
        self.out = out
        self.err = err

    def warn(self, warnings: Iterable[object]) -> None:
        for warning in warnings:
            self.err.print(one_line(f"warning: {warning}"))

    def write(self, text: str) -> None:
        """`text` on standard output as it is (JSON, a schema, a graph): no console."""
        if sys.stdout is None:
            raise OutputUnwritable("standard output is closed")
        sys.stdout.write(text)

    def progress(self, what: str) -> contextlib.AbstractContextManager[Any]:
        return progress(self.err, what)
