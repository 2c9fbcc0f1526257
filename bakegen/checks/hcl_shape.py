"""The shape of an HCL file, as far as bakegen needs it to know what a workspace's bake
template printed: its tokens (strings and their `${...}`, heredocs, comments), its brackets, and
its bodies of `name = expression` attributes and `type "label" { ... }` blocks.

It is no evaluator: an expression is read as tokens up to the end of its line (outside
brackets), so what only bake can tell (an unknown function, a wrong type) is left to bake. What
it finds is where a Jinja override goes wrong: a string or bracket left open, a line of text
that is neither an attribute nor a block, a block left out. One pass over the text, one regular
expression match per token: a bake file of thousands of targets is read in well under a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A string without `${` or `%{` is one match; one with them starts at `quote`.
_SIMPLE_STRING = r'"(?:[^"\\\n$%]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))*"'
_TOKEN = re.compile(
    rf"""(?P<nl>\r?\n)|(?P<skip>[ \t]+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
    |(?P<string>{_SIMPLE_STRING})|(?P<quote>")
    |(?P<heredoc><<-?(?P<marker>[A-Za-z_][A-Za-z0-9_-]*)\r?\n)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_-]*)|(?P<open>[{{\[(])|(?P<close>[}}\])])
    |(?P<assign>=(?![=>]))|(?P<other>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?
    |==|!=|<=|>=|&&|\|\||=>|\.\.\.|[,.:?!<>+\-*/%])""",
    re.S | re.X,
)
_PAIRS = {"{": "}", "[": "]", "(": ")"}
_STRING_TEXT = re.compile(r'[^"\\$%\n]*')


class HclError(Exception):
    """Where the text stops being HCL (an offset into it), and why."""

    def __init__(self, at: int, why: str) -> None:
        super().__init__(why)
        self.at = at
        self.why = why


@dataclass(frozen=True)
class Block:
    """A top-level block: its type, labels, and where it starts."""

    type: str
    labels: tuple[str, ...]
    at: int


def _match(text: str, at: int) -> re.Match[str]:
    found = _TOKEN.match(text, at)
    if found is None:
        raise HclError(at, f"'{text[at]}' starts no HCL token")
    return found


def _end(text: str, found: re.Match[str]) -> int:
    """Where the token `found` ends: past a heredoc's closing line, or a string's `${...}`."""
    kind = found.lastgroup
    if kind == "quote":
        return _string_end(text, found.end())
    if kind == "heredoc":
        marker = found.group("marker")
        closing = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*\r?$", re.M)
        last = closing.search(text, found.end())
        if last is None:
            raise HclError(found.start(), f"heredoc <<{marker} is never closed")
        return last.end()
    return found.end()


def _string_end(text: str, at: int) -> int:
    """The end of the quoted string whose text starts at `at` (after its quote)."""
    start = at - 1
    while True:
        at = _STRING_TEXT.match(text, at).end()  # type: ignore[union-attr]
        char = text[at : at + 1]
        if char == '"':
            return at + 1
        if char in ("", "\n"):
            raise HclError(start, "a string is not closed on its line")
        if char == "\\":
            at += 2
        elif text.startswith(("$${", "%%{"), at):
            at += 3
        elif text.startswith(("${", "%{"), at):
            at = _template_end(text, at + 2)
        else:
            at += 1


def _template_end(text: str, at: int) -> int:
    """The end of a `${...}` whose expression starts at `at`."""
    start = at - 2
    depth: list[str] = []
    while at < len(text):
        found = _match(text, at)
        kind, token = found.lastgroup, found.group()
        at = _end(text, found)
        if kind == "open":
            depth.append(_PAIRS[token])
        elif kind == "close" and not depth and token == "}":
            return at
        elif kind == "close":
            _close(depth, token, found.start())
    raise HclError(start, "a ${ in a string is not closed")


def _close(depth: list[str], token: str, at: int) -> None:
    if not depth:
        raise HclError(at, f"'{token}' closes nothing")
    expected = depth.pop()
    if token != expected:
        raise HclError(at, f"'{token}' where '{expected}' closes a bracket")


# What the reader expects next: an attribute or a block, what follows a name (`=`, a label or
# `{`), or more of a value.
_ITEM, _AFTER_NAME, _VALUE = 0, 1, 2


class _Reader:
    """One pass over the tokens, with a stack of the blocks and brackets open."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.blocks: list[Block] = []
        self.bodies = 0  # blocks open
        self.brackets: list[str] = []  # brackets open in the value being read
        self.state = _ITEM
        self.name: re.Match[str] | None = None
        self.labels: list[str] = []
        self.count = 0  # tokens of the value being read

    def read(self) -> list[Block]:
        text, at, end = self.text, 0, len(self.text)
        match, plain = _TOKEN.match, ("string", "ident", "other", "assign")
        while at < end:
            found = match(text, at) or _match(text, at)
            kind = found.lastgroup
            at = found.end() if kind not in ("quote", "heredoc") else _end(text, found)
            if kind == "skip":
                continue
            if self.state == _VALUE and kind in plain:  # most of a bake file: values' words
                self.count += 1
                continue
            self.token(kind or "", found, at)
        self.token("nl", None, end)  # the text ends a line
        if self.bodies:
            raise HclError(end, "a block is never closed")
        return self.blocks

    def token(self, kind: str, found: re.Match[str] | None, at: int) -> None:
        if self.state == _VALUE:
            self.value(kind, found, at)
        elif self.state == _AFTER_NAME:
            self.after_name(kind, found)
        elif kind == "ident":
            self.state, self.name, self.labels = _AFTER_NAME, found, []
        elif kind == "close" and found is not None and found.group() == "}" and self.bodies:
            self.bodies -= 1
        elif kind != "nl":
            where = found.start() if found is not None else at
            raise HclError(where, f"'{self.text[where:at]}' where an attribute or a block starts")

    def after_name(self, kind: str, found: re.Match[str] | None) -> None:
        name = self.name
        assert name is not None
        if kind == "assign" and not self.labels:
            self.state, self.count = _VALUE, 0
        elif kind in ("string", "ident") and found is not None:
            token = found.group()
            self.labels.append(token[1:-1] if kind == "string" else token)
        elif kind == "open" and found is not None and found.group() == "{":
            if self.bodies == 0:
                self.blocks.append(Block(name.group(), tuple(self.labels), name.start()))
            self.bodies += 1
            self.state = _ITEM
        else:
            raise HclError(name.start(), f"'{name.group()}' is neither `name = value` nor a block")

    def value(self, kind: str, found: re.Match[str] | None, at: int) -> None:
        name = self.name
        assert name is not None
        token = found.group() if found is not None else ""
        if not self.brackets and (kind == "nl" or (kind == "close" and token == "}")):
            if not self.count:
                raise HclError(name.start(), f"'{name.group()} =' has no value")
            self.state = _ITEM
            if kind == "close":
                self.token(kind, found, at)
            return
        if kind == "nl" and found is None:
            raise HclError(
                name.start(), f"a bracket in the value of '{name.group()}' is never closed"
            )
        self.count += 1
        if kind == "open":
            self.brackets.append(_PAIRS[token])
        elif kind == "close" and found is not None:
            _close(self.brackets, token, found.start())


def scan(text: str) -> Iterator[tuple[str, str]]:
    """Each token of `text` but blanks and comments, as (kind, text): `nl`, `string` (a whole
    quoted template), `heredoc`, `ident`, `open`, `close`, `assign`, `other` (a number or an
    operator); HclError where a token cannot start or never ends."""
    at, end = 0, len(text)
    while at < end:
        found = _match(text, at)
        kind = found.lastgroup or ""
        stop = _end(text, found)
        if kind != "skip":
            yield ("string" if kind == "quote" else kind), text[found.start() : stop]
        at = stop


def top_blocks(text: str) -> list[Block]:
    """The blocks at the top of an HCL file; HclError where it is not HCL."""
    return _Reader(text).read()


def position(text: str, at: int) -> tuple[int, int]:
    """The line and column (1-based) of offset `at` in `text`."""
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1
