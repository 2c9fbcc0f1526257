"""Variables in a Dockerfile word, expanded as BuildKit's shell lexer does (`$NAME`, `${NAME}`,
`${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, quotes and the escape
character), over every value a variable may have: a word's value is a set of strings, or
UNKNOWN when a variable's value is not known here (set by a base image, an expression of the
bake file) or the form is one this does not evaluate."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import product

from bakegen.affected.hcl import UNKNOWN

Values = frozenset[str] | object  # a frozenset of strings, or UNKNOWN
# A variable's values; None when it is not set (it expands to nothing).
Lookup = Callable[[str], "Values | None"]
# More values than this for one word: UNKNOWN (the reads are then the whole context).
MOST = 64
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?", re.DOTALL)


class _Unknowable(Exception):
    pass


def expand(word: str, lookup: Lookup, escape: str = "\\") -> Values:
    """The values of `word` with its variables expanded and its quotes removed."""
    try:
        return _expand(word, lookup, escape)
    except _Unknowable:
        return UNKNOWN


def _expand(word: str, lookup: Lookup, escape: str) -> frozenset[str]:
    parts: list[frozenset[str]] = []
    text: list[str] = []
    quote = ""
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c == escape and quote != "'" and i + 1 < n:
            text.append(word[i + 1])
            i += 2
            continue
        if c in "'\"" and quote in ("", c):
            quote = "" if quote else c
        elif c == "$" and quote != "'" and i + 1 < n:
            values, i = _variable(word, i + 1, lookup, escape)
            if values is not None:
                parts.extend((frozenset(["".join(text)]), values))
                text = []
                continue
            text.append(c)
            continue
        else:
            text.append(c)
        i += 1
    parts.append(frozenset(["".join(text)]))
    return _joined(parts)


def _joined(parts: list[frozenset[str]]) -> frozenset[str]:
    size = 1
    for part in parts:
        size *= len(part)
    if size > MOST:
        raise _Unknowable
    return frozenset("".join(p) for p in product(*parts))


def _variable(word: str, i: int, lookup: Lookup, escape: str) -> tuple[frozenset[str] | None, int]:
    """The values of the variable whose name starts at `i` (past the `$`), and the index past
    it; None when `$` is a plain character there."""
    if word[i] == "{":
        end, depth = i + 1, 1
        while end < len(word) and depth:
            depth += {"{": 1, "}": -1}.get(word[end], 0)
            end += 1
        if depth:
            raise _Unknowable
        match = _BRACED.fullmatch(word[i + 1 : end - 1])
        if match is None:
            raise _Unknowable  # ${#X}, ${X%y}, ${X/a/b}, ${X:?}: not evaluated here
        name, op, alternative = match.groups()
        return _apply(lookup(name), op, alternative, lookup, escape), end
    match = _NAME.match(word, i)
    if match is None:
        return None, i
    return _apply(lookup(match.group()), None, None, lookup, escape), match.end()


def _apply(
    value: Values | None, op: str | None, alternative: str | None, lookup: Lookup, escape: str
) -> frozenset[str]:
    if value is UNKNOWN:
        raise _Unknowable
    values = value if isinstance(value, frozenset) else None
    if op is None:
        return values if values is not None else frozenset([""])
    other = _expand(alternative or "", lookup, escape)
    empty = frozenset([""])
    if op == "-":
        return values if values is not None else other
    if op == ":-":
        return frozenset().union(*({v} if v else other for v in values or {""}))
    if op == "+":
        return other if values is not None else empty
    return frozenset().union(*(other if v else empty for v in values or {""}))
