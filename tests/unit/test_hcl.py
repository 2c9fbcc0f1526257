"""The one quoting filter for HCL and bake JSON strings."""

from __future__ import annotations

import pytest

from bakegen.emit.hcl import Call, Ref, hcl_string, to_hcl, to_json_value
from bakegen.manifest.values import Var


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ("${VERSION}", '"$${VERSION}"'),
        ("%{if x}", '"%%{if x}"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("a\nb\rc\td", '"a\\nb\\rc\\td"'),
        ("bell\x07", '"bell\\u0007"'),
        ("del\x7f", '"del\\u007f"'),
        ("naïve ✓", '"naïve ✓"'),
        ("$${x}", '"$$${x}"'),
        ("$ and %", '"$ and %"'),
    ],
)
def test_hcl_string(value: str, quoted: str) -> None:
    assert hcl_string(value) == quoted


def test_text_with_variables() -> None:
    assert to_hcl(("repo:", Var("VERSION"), "-py${x}")) == '"repo:${VERSION}-py$${x}"'
    assert to_hcl((Var("VERSION"),)) == "VERSION"


def test_maps_quote_only_non_identifier_keys() -> None:
    assert to_hcl({"A_B": "1", "a.b": "2"}) == '{\n  A_B   = "1"\n  "a.b" = "2"\n}'


def test_long_lists_wrap_one_item_per_line() -> None:
    items: list[object] = [f"target-number-{i}" for i in range(6)]
    rendered = to_hcl(items)  # type: ignore[arg-type]
    assert rendered.splitlines()[0] == "["
    assert rendered.splitlines()[1] == '  "target-number-0",'


def test_calls() -> None:
    assert to_hcl(Call("gate", (Ref("HUB"), [("x",)]))) == 'gate(HUB, ["x"])'


def test_json_values_are_templates_too() -> None:
    assert to_json_value("${x}") == "$${x}"
    assert to_json_value(("a", Var("V"))) == "a${V}"
    assert to_json_value(Call("gate", (Ref("G"), [("t",)]))) == '${gate(G, ["t"])}'


def _escaped_char_by_char(text: str) -> str:
    """The rule, one character at a time: the escapes HCL knows, other control characters as
    \\uXXXX, template sequences doubled."""
    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    out = []
    for char in text.replace("${", "$${").replace("%{", "%%{"):
        if char in named:
            out.append(named[char])
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def test_hcl_string_escapes_every_special_character_as_the_rule_says() -> None:
    alphabet = ["a", "é", "$", "%", "{", "}", "\\", '"', "\x7f", *map(chr, range(32))]
    for first in alphabet:
        for second in alphabet:
            for text in (first + second, f"x{first}{second}y", first * 3):
                assert hcl_string(text) == _escaped_char_by_char(text), repr(text)
