"""GitHub Actions expressions (`${{ ... }}`), as a runner evaluates them: literals, contexts by
dotted path, `!`, `==`, `!=`, `&&`, `||` (which give an operand, not a boolean), parentheses and
the status functions. Enough for the workflows bakegen writes; anything else is an error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_*-]+)*(?:\(\))?))"
)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(text.rstrip()):
        match = TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise ValueError(f"cannot read the expression {text!r} at {text[at:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.contexts = contexts
        self.text = text

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def either(self) -> Any:
        left = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            left = left if truthy(left) else right
        return left

    def both(self) -> Any:
        left = self.unary()
        while self.peek() == "&&":
            self.take()
            right = self.unary()
            left = right if truthy(left) else left
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        left = self.primary()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            same = _equal(left, self.primary())
            return same if op == "==" else not same
        return left

    def primary(self) -> Any:
        kind, value = self.take()
        if value == "(":
            found = self.either()
            assert self.take()[1] == ")", self.text
            return found
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value)
        if kind != "name":
            raise ValueError(f"cannot read the expression {self.text!r}")
        return self.name(value)

    def name(self, value: str) -> Any:
        literals = {"true": True, "false": False, "null": None}
        if value in literals:
            return literals[value]
        status = self.contexts.get("_status", "success")
        calls = {
            "success()": status == "success",
            "failure()": status == "failure",
            "cancelled()": False,
            "always()": True,
        }
        if value.endswith("()"):
            if value not in calls:
                raise ValueError(f"{self.text!r}: no function {value}")
            return calls[value]
        found: Any = self.contexts
        for part in value.split("."):
            found = found.get(part, "") if isinstance(found, Mapping) else ""
        return found


def truthy(value: Any) -> bool:
    return value not in (None, False, "", 0, 0.0)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def value_of(text: str, contexts: Mapping[str, Any]) -> Any:
    parser = _Parser(text, contexts)
    found = parser.either()
    if parser.at != len(parser.tokens):
        raise ValueError(f"cannot read the expression {text!r}")
    return found


def evaluate(condition: Any, contexts: Mapping[str, Any]) -> bool:
    """An `if:`: with or without its `${{ }}`."""
    if isinstance(condition, bool):
        return condition
    text = str(condition).strip()
    match = EXPRESSION.fullmatch(text)
    return truthy(value_of(match.group(1) if match else text, contexts))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def interpolate(value: Any, contexts: Mapping[str, Any]) -> Any:
    """A value of the workflow with each `${{ }}` in it replaced by its value's text."""
    if not isinstance(value, str):
        return value
    return EXPRESSION.sub(lambda m: _text(value_of(m.group(1), contexts)), value)
