"""YAML errors in plain words: what PyYAML says, said the way a person fixes it, at the key
path the offending line sits under."""

from __future__ import annotations

import re
import unicodedata

import yaml

from bakegen.errors import KeyPath, Location, Problem


def forbidden_character(text: str, exc: yaml.reader.ReaderError, display: str) -> Problem:
    """A character YAML does not allow, at its line and column, in plain words."""
    position = exc.position if 0 <= exc.position < len(text) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    char = text[position] if text else "\0"
    kind = "control character" if unicodedata.category(char) == "Cc" else "character"
    message = f"{kind} U+{ord(char):04X} is not allowed in YAML; remove it"
    return Problem(Location(display, line, column), nearest_key_path(text, line), message)


# PyYAML's words for the common mistakes, and what to say instead.
_SYNTAX = (
    (
        "expected <block end>, but found",
        "this line is indented differently from the lines above "
        "it (one level too much or too little?)",
    ),
    (
        "mapping values are not allowed here",
        "a ':' where no key can start (a value holding ': ' "
        "needs quotes; or an indentation mistake)",
    ),
    ("could not find expected ':'", "a mapping entry without ':' (a key needs ': ')"),
    ("found character '\\t' that cannot start any token", "a tab; YAML indents with spaces"),
    ("while scanning a quoted scalar", "a quote that is never closed"),
)


def syntax_message(exc: yaml.MarkedYAMLError) -> str:
    said = " ".join(str(p) for p in (exc.context, exc.problem) if p)
    if (alias := re.search(r"found undefined alias '([^']*)'", said)) is not None:
        name = alias.group(1)
        return f"YAML syntax error: the alias *{name} has no anchor &{name} before it"
    for words, plain in _SYNTAX:
        if words in said:
            return f"YAML syntax error: {plain}"
    return f"YAML syntax error: {said}"


def nearest_key_path(text: str, line: int) -> KeyPath:
    """The key path of the mapping keys above `line`, read from their indentation."""
    stack: list[tuple[int, str]] = []
    lines = text.split("\n")

    def nest(indent: int) -> None:
        while stack and stack[-1][0] >= indent:
            stack.pop()

    for raw in lines[: max(line - 1, 0)]:
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith(("#", "- ", "---", "...")):
            continue
        key, sep, _ = stripped.partition(":")
        if not sep or not key or key.startswith(("[", "{")) or " #" in key:
            continue
        nest(len(raw) - len(stripped))
        stack.append((len(raw) - len(stripped), key.strip().strip("'\"")))
    if 0 < line <= len(lines):  # the keys the offending line itself sits under
        here = lines[line - 1]
        nest(len(here) - len(here.lstrip(" ")))
    return tuple(k for _, k in stack)
