"""A reader of the bake file as rendered: its top-level blocks and attributes as tokens (the
text bake evaluates, without comments and layout), and the attributes whose values are plain
literals. An expression (a variable, a call, a template `${...}`) is UNKNOWN: its value is
bake's to work out, and whoever reads it must assume anything.

A workspace's docker-bake.hcl.j2 may print any text; what this reader does not understand
gives None, and the caller then compares the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bakegen.checks.hcl_shape import HclError, scan


class _Unknown:
    """The value of an expression only bake can evaluate."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

Token = tuple[str, str]  # kind (name, string, heredoc, number, nl, punct), text
_OPEN, _CLOSE = "([{", ")]}"
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class _Malformed(Exception):
    pass


def tokens(text: str) -> list[Token]:
    """The tokens of `text`, comments dropped, newlines kept (they end attributes); read by the
    one HCL scanner (`checks.hcl_shape.scan`). Text it cannot read is _Malformed."""
    kinds = {"ident": "name", "string": "string", "heredoc": "heredoc"}
    out: list[Token] = []
    try:
        for kind, token in scan(text):
            if kind == "nl":
                out.append(("nl", "\n"))
            elif kind in kinds:
                out.append((kinds[kind], token))
            else:
                out.append(("number" if token[0].isdigit() else "punct", token))
    except HclError:
        raise _Malformed from None
    return out


@dataclass(frozen=True)
class Item:
    """A top-level block (`kind` its type, `name` its first label) or attribute (`kind` '')."""

    kind: str
    name: str
    tokens: tuple[str, ...]
    attrs: dict[str, object] = field(default_factory=dict)


def items(text: str) -> list[Item] | None:
    """The top-level blocks and attributes of `text`; None when it is not read as HCL."""
    try:
        toks = tokens(text)
    except _Malformed:
        return None
    out: list[Item] = []
    i = _skip_nl(toks, 0)
    try:
        while i < len(toks):
            start = i
            kind, name = toks[i]
            if kind != "name":
                return None
            i += 1
            if i < len(toks) and toks[i][1] == "=":
                end = _expression_end(toks, i + 1)
                out.append(Item("", name, _texts(toks[start:end])))
            else:
                labels: list[str] = []
                while i < len(toks) and toks[i][0] in ("string", "name"):
                    labels.append(_label(toks[i]))
                    i += 1
                if i >= len(toks) or toks[i][1] != "{":
                    return None
                attrs, end = _body(toks, i + 1)
                label = labels[0] if labels else ""
                out.append(Item(name, label, _texts(toks[start:end]), attrs))
            i = _skip_nl(toks, end)
    except _Malformed:
        return None
    return out


def _texts(toks: list[Token]) -> tuple[str, ...]:
    return tuple(text for kind, text in toks if kind != "nl")


def _skip_nl(toks: list[Token], i: int) -> int:
    while i < len(toks) and toks[i][0] == "nl":
        i += 1
    return i


def _label(token: Token) -> str:
    if token[0] == "name":
        return token[1]
    value = _decode_string(token[1])
    if value is UNKNOWN:
        raise _Malformed
    return str(value)


def _expression_end(toks: list[Token], i: int) -> int:
    """The end of an expression starting at `i`: a newline or a closing brace outside brackets."""
    depth = 0
    while i < len(toks):
        kind, text = toks[i]
        if depth == 0 and (kind == "nl" or text == "}"):
            return i
        if kind == "punct" and text in _OPEN:
            depth += 1
        elif kind == "punct" and text in _CLOSE:
            depth -= 1
            if depth < 0:
                raise _Malformed
        i += 1
    return i


def _body(toks: list[Token], i: int) -> tuple[dict[str, object], int]:
    """A block's attributes (by name, their literal values) and the index past its `}`."""
    attrs: dict[str, object] = {}
    while True:
        i = _skip_nl(toks, i)
        if i >= len(toks):
            raise _Malformed
        if toks[i][1] == "}":
            return attrs, i + 1
        if toks[i][0] != "name":
            raise _Malformed
        name = toks[i][1]
        if i + 1 < len(toks) and toks[i + 1][1] == "=":
            end = _expression_end(toks, i + 2)
            attrs[name] = literal(toks[i + 2 : end])
            i = end
            continue
        i += 1  # a nested block: kept in the tokens, no attribute of this one
        while i < len(toks) and toks[i][0] in ("string", "name"):
            i += 1
        if i >= len(toks) or toks[i][1] != "{":
            raise _Malformed
        _, i = _body(toks, i + 1)


def literal(toks: list[Token]) -> object:
    """The value of an expression that is a plain literal (strings, numbers, booleans, null,
    lists and maps of them); UNKNOWN for anything bake has to evaluate."""
    toks = [t for t in toks if t[0] != "nl"]
    try:
        value, end = _value(toks, 0)
    except (_Malformed, IndexError):
        return UNKNOWN
    return value if end == len(toks) else UNKNOWN


def _value(toks: list[Token], i: int) -> tuple[object, int]:
    kind, text = toks[i]
    if kind == "string":
        return _decode_string(text), i + 1
    if kind == "heredoc":
        return _decode_heredoc(text), i + 1
    if kind == "number":
        return (float(text) if any(c in text for c in ".eE") else int(text)), i + 1
    if kind == "name" and text in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[text], i + 1
    if text == "[":
        return _list(toks, i + 1)
    if text == "{":
        return _map(toks, i + 1)
    raise _Malformed


def _list(toks: list[Token], i: int) -> tuple[object, int]:
    out: list[object] = []
    while toks[i][1] != "]":
        value, i = _value(toks, i)
        out.append(value)
        if toks[i][1] == ",":
            i += 1
        elif toks[i][1] != "]":
            raise _Malformed
    return out, i + 1


def _map(toks: list[Token], i: int) -> tuple[object, int]:
    out: dict[str, object] = {}
    while toks[i][1] != "}":
        kind, text = toks[i]
        key = text if kind == "name" else _decode_string(text) if kind == "string" else UNKNOWN
        if not isinstance(key, str) or toks[i + 1][1] not in ("=", ":"):
            raise _Malformed
        out[key], i = _value(toks, i + 2)
        if toks[i][1] == ",":
            i += 1
    return out, i + 1


def _decode_string(raw: str) -> object:
    """The value of a quoted string, or UNKNOWN when it is a template (`${`, `%{`)."""
    if len(raw) < 2 or not raw.endswith('"'):
        raise _Malformed
    return _unescape(raw[1:-1], escapes=True)


def _decode_heredoc(raw: str) -> object:
    head, _, rest = raw.partition("\n")
    lines = rest.split("\n")[:-1]  # the last is the closing marker
    if head.startswith("<<-"):
        indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
        cut = min(indents, default=0)
        lines = [line[cut:] for line in lines]
    return _unescape("".join(line + "\n" for line in lines), escapes=False)


def _unescape(text: str, *, escapes: bool) -> object:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            out.append(text[i + 1 : i + 3])
            i += 3
        elif text.startswith(("${", "%{"), i):
            return UNKNOWN
        elif escapes and text[i] == "\\" and i + 1 < len(text):
            i, char = _escape(text, i + 1)
            out.append(char)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _escape(text: str, i: int) -> tuple[int, str]:
    """The character an escape names (`i` past the backslash) and the index past it."""
    c = text[i]
    if c in _ESCAPES:
        return i + 1, _ESCAPES[c]
    width = {"u": 4, "U": 8}.get(c)
    if width is None:
        raise _Malformed
    try:
        return i + 1 + width, chr(int(text[i + 1 : i + 1 + width], 16))
    except ValueError:
        raise _Malformed from None
