"""A build context's `.dockerignore`, read as BuildKit reads it: one pattern a line (`#` starts a
comment line, `!` an exception), each cleaned and taken from the context's root; `*` and `?` do
not cross a `/`, `**` does; the last pattern that matches a path decides, and a path is also
left out when a folder above it is. Files left out are not in the context: no COPY reads them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# Characters that mean something to a regular expression but nothing to a pattern.
_LITERAL = set(".+()|{}$^")


@dataclass(frozen=True)
class Pattern:
    exclusion: bool  # a `!` line: what it matches is back in
    regex: re.Pattern[str]


def patterns(text: str) -> tuple[Pattern, ...]:
    """The patterns of a .dockerignore's text, in order."""
    out: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        line = line[1:].strip() if exclusion else line
        if not line:
            continue
        cleaned = posixpath.normpath(line)
        if len(cleaned) > 1 and cleaned.startswith("/"):
            cleaned = cleaned.lstrip("/") or "."
        try:
            regex = re.compile(_regex(cleaned))
        except re.error:  # a bad character class: BuildKit refuses it, here it is plain text
            regex = re.compile(re.escape(cleaned) + "$")
        out.append(Pattern(exclusion, regex))
    return tuple(out)


def _regex(pattern: str) -> str:
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
            out.append(".*" if i >= n else "(.*/)?")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c in _LITERAL or c == "\\":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    out.append("$")
    return "".join(out)


def excluded(path: str, found: tuple[Pattern, ...]) -> bool:
    """Whether the context leaves out `path` (relative to its root, with `/`)."""
    matched = False
    parents = path.split("/")[:-1]
    for pattern in found:
        if pattern.exclusion != matched:
            continue  # an exception only matters once excluded, a pattern only before
        hit = pattern.regex.match(path) is not None or any(
            pattern.regex.match("/".join(parents[: i + 1])) for i in range(len(parents))
        )
        if hit:
            matched = not pattern.exclusion
    return matched
