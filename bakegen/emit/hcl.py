"""Quoting for bake files: one function for HCL string literals, used for every value."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bakegen.manifest.values import Text, Var

WRAP = 80
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words HCL reads as something else at the start of an object key: `{ for = 1 }` is a broken
# for-expression, `{ null = 1 }` a null key. Such keys are quoted.
KEYWORDS = frozenset({"for", "in", "if", "null", "true", "false"})
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Every character escaped in a string literal: the ones above, other control characters as \uXXXX.
_TRANSLATION = {c: f"\\u{c:04x}" for c in (*range(32), 127)} | {
    ord(c): escaped for c, escaped in _ESCAPES.items()
}
# Whether a text needs any escaping at all: most names, tags and paths do not.
_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]|[$%]\{')


def template_literal(text: str) -> str:
    """Escape literal text so that an HCL (or bake JSON) template reads it back unchanged."""
    return text.replace("${", "$${").replace("%{", "%%{")


def hcl_string(text: str) -> str:
    """A double-quoted HCL string literal whose value is exactly `text`."""
    return '"' + _escape(text) + '"'


def _escape(text: str) -> str:
    if _SPECIAL.search(text) is None:
        return text
    return template_literal(text).translate(_TRANSLATION)


@dataclass(frozen=True)
class Call:
    """A function call in a bake expression, e.g. gate(HUB_PASSWORD, [...])."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Ref:
    """A bare variable or parameter reference."""

    name: str


Expr = str | bool | Text | Call | Ref | list["Expr"] | dict[str, "Expr"]


def text_template(text: Text) -> str:
    """The template string of a Text: literals escaped, variables as ${NAME}."""
    return "".join(f"${{{p.name}}}" if isinstance(p, Var) else template_literal(p) for p in text)


def to_hcl(expr: Expr, indent: str = "") -> str:
    """Render an expression as HCL source."""
    if type(expr) is str:  # the most common value, without a call more
        return hcl_string(expr)
    if isinstance(expr, (bool, str, tuple, Ref)):
        return _atom(expr)
    if isinstance(expr, Call):
        return _call(expr, indent)
    if isinstance(expr, list):
        return _list(expr, indent)
    return _object(expr, indent)


def _atom(expr: bool | str | Text | Ref) -> str:
    """A value on one line: a boolean, a string, a template of bake variables, a reference."""
    if isinstance(expr, bool):
        return "true" if expr else "false"
    if isinstance(expr, str):
        return hcl_string(expr)
    if isinstance(expr, Ref):
        return expr.name
    if len(expr) == 1 and isinstance(expr[0], Var):
        return expr[0].name
    return '"' + "".join(f"${{{p.name}}}" if isinstance(p, Var) else _escape(p) for p in expr) + '"'


def _call(expr: Call, indent: str) -> str:
    """`name(a, b)`, or one argument a line when that is wider than WRAP."""
    inner = indent + "  "
    args = [to_hcl(a, inner) for a in expr.args]
    flat = f"{expr.name}({', '.join(args)})"
    if len(flat) + len(indent) <= WRAP or len(args) < 2:
        return flat
    return f"{expr.name}(\n" + ",\n".join(f"{inner}{a}" for a in args) + f"\n{indent})"


def _list(expr: list[Expr], indent: str) -> str:
    """`[a, b]`, or one item a line when that is wider than WRAP."""
    inner = indent + "  "
    items = [to_hcl(e, inner) for e in expr]
    flat = "[" + ", ".join(items) + "]"
    if len(flat) + len(indent) <= WRAP or len(items) < 2:
        return flat
    return "[\n" + "".join(f"{inner}{item},\n" for item in items) + f"{indent}]"


def _object(expr: dict[str, Expr], indent: str) -> str:
    """An object, one attribute a line, the names padded to one width."""
    if not expr:
        return "{}"
    inner = indent + "  "
    keys = {k: k if IDENTIFIER.match(k) and k not in KEYWORDS else hcl_string(k) for k in expr}
    width = max(len(k) for k in keys.values())
    rows = [f"{inner}{keys[k]:<{width}} = {to_hcl(v, inner)}" for k, v in expr.items()]
    return "{\n" + "\n".join(rows) + f"\n{indent}}}"


def to_json_value(expr: Expr) -> object:
    """Render an expression as a value of a bake JSON file (strings are templates there)."""
    if isinstance(expr, bool):
        return expr
    if isinstance(expr, str):
        return template_literal(expr)
    if isinstance(expr, tuple):
        return text_template(expr)
    if isinstance(expr, list):
        return [to_json_value(e) for e in expr]
    if isinstance(expr, dict):
        return {template_literal(k): to_json_value(v) for k, v in expr.items()}
    return "${" + to_hcl(expr) + "}"


def to_json(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
