"""The `bake:` values bakegen checks as bake reads them, and the bake file an override prints
(the same values against real `docker buildx bake --print`:
tests/integration/test_bake_values_conformance.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen.checks import bake_values
from bakegen.checks.hcl_shape import HclError, position, top_blocks
from testing.helpers import run_cli
from tests.unit.test_bake_template import EVERY_BLOCK, workspace

# Attribute -> (values bake takes, values bake refuses): what `docker buildx bake --print`
# (buildx 0.29) says of each, for the attributes it reads when it loads a bake file.
PRINTED: dict[str, tuple[list[str], list[str]]] = {
    "shm-size": (
        ["2g", "2G", "2gb", "2gib", "2 g", "0", "-0", "+5", "1.5g", "5.", ".5k", "1e3", "0x1p4",
         "1_000", "1_0.5_5", "128"],
        ["lots", "", "-1", "2  g", "2g ", "1e", "1e400", "0x10", "2kbb", "2x", "g", "2ib",
         ".", "1__0", "_1", "1_", "\uff12g", "inf", "1.2.3"],
    ),
    "ulimits": (
        ["nofile=1:2", "nofile=-1", "nofile=5:-1", "nofile=+5", "core=1", "nofile=1024"],
        ["x", "nofile=2:1", "nofile=-1:5", "nofile=", "nofile=1:2:3", "NOFILE=1", "as=1",
         "nofile=0x10", "nofile=9223372036854775808", "nofile= 1", "=1"],
    ),
    "annotations": (
        ["a=b", "=b", "index:a=b", "index,manifest:a=b", "index[linux/amd64]:a=b",
         "index[linux]:a=b", "index[amd64]:a=b", "index[x86_64]:a=b", "manifest-descriptor:a=b",
         "index[linux/amd64],manifest:k=v"],
        ["bad", "a:b:c=d", "foo:a=b", ":a=b", "index[foo]:a=b", "index[a/b/c/d]:a=b", "Index:a=b",
         "index[]:a=b", "index[linux//amd64]:a=b"],
    ),
    "attest": (
        ["type=sbom", "type=sbom,disabled=1", "TYPE=sbom", "\"type=sbom\"", "",
         "type=provenance,mode=max", " type=sbom"],
        ["x", "type=\"sbom\"", "type=", "disabled=true", "type=sbom,disabled=maybe", "type=sbom,x", "type=sbom,",
         "a\"b"],
    ),
    "output": (
        ["typo=1", "type", "type=docker", "dest", "-", "./out", "type=local,dest=x", "",
         "TYPE=docker"],
        ["type=", "\"a,b\"", "a,b", "a\"b", "x,type=docker", "type=docker,x"],
    ),
    "cache-from": (
        ["x", "type=gha", "a,b", "", "user/app:cache"],
        ["a,,b", "\"a,b\"", "type=", "x=1", "user/app:cache,type=x", "a\"b", "ref=x", "\"\""],
    ),
}  # fmt: skip
# The same for the attributes bake reads only when it builds (its source says how).
BUILT: dict[str, tuple[list[str], list[str]]] = {
    "call": (
        ["build", "check", "lint", "outline", "targets", "outline,format=json",
         "check,ignorestatus=true"],
        ["nope", "", "format=json", "outline,targets", "check,ignorestatus=maybe", "check,x=1",
         "\"check"],
    ),
    "network": (["default", "host", "none", ""], ["bridge", "HOST", "host "]),
    "entitlements": (
        ["network.host", "security.insecure", "device", "device=", "device=gpu,alias=nvidia",
         "network.host=x"],
        ["bogus", "fs.read=/tmp", "device=gpu,x", "device=gpu,size=1"],
    ),
}  # fmt: skip
CHECKS = {**bake_values.STRINGS, **bake_values.ITEMS}


@pytest.mark.parametrize(
    ("attribute", "value", "taken"),
    [
        (attribute, value, taken)
        for table in (PRINTED, BUILT)
        for attribute, (good, bad) in table.items()
        for taken, values in ((True, good), (False, bad))
        for value in values
    ],
)
def test_a_value_is_refused_exactly_when_bake_refuses_it(
    attribute: str, value: str, taken: bool
) -> None:
    said = CHECKS[attribute](value)
    assert (said is None) == taken, said
    if said is not None:
        assert "\n" not in said


@pytest.mark.parametrize(
    ("key", "value", "taken"),
    [
        ("pypi.example", "10.0.0.7", True),
        ("h", "::1", True),
        ("h", "[::1]", True),
        ("h", "10.0.0.1,[fe80::1]", True),
        ("h", "host-gateway", True),
        ("h", "notip", False),
        ("h", "010.0.0.1", False),
        ("h", "fe80::1%eth0", False),
        ("h", "host-gateway,10.0.0.1", False),
        ("h", "", False),
        ("a=b", "10.0.0.1", False),
    ],
)
def test_extra_hosts_are_names_and_ip_addresses(key: str, value: str, taken: bool) -> None:
    assert (bake_values._extra_host(key, value) is None) == taken


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        ('"a,b",c', ["a,b", "c"]),
        ("a,", ["a", ""]),
        ('"a""b"', ['a"b']),
        ('"a",""', ["a", ""]),
        ("x\n", ["x"]),
        ('"a"b', None),
        ('a"b', None),
        ('"', None),
        ("", None),
    ],
)
def test_csv_entries_read_as_go_reads_them(text: str, fields: list[str] | None) -> None:
    assert bake_values.csv_fields(text) == fields


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        ('target "a" {\n  x = "abc\n}\n', (2, 7), "a string is not closed on its line"),
        ('target "a" {\n', (2, 1), "a block is never closed"),
        ("hello world\n", (1, 1), "'hello' is neither `name = value` nor a block"),
        ('target "a" {\n x = [1, 2\n}\n', (3, 1), "'}' where ']' closes a bracket"),
        ("}\n", (1, 1), "'}' where an attribute or a block starts"),
        ("a =\n", (1, 1), "'a =' has no value"),
        ("a = <<EOF\nhi\n", (1, 5), "heredoc <<EOF is never closed"),
        ('a = "${b"\n', (1, 9), "a string is not closed on its line"),
        ("a = ]\n", (1, 5), "']' closes nothing"),
    ],
)
def test_text_that_is_not_hcl_is_found_where_it_stops(
    text: str, where: tuple[int, int], why: str
) -> None:
    with pytest.raises(HclError) as caught:
        top_blocks(text)
    assert (position(text, caught.value.at), caught.value.why) == (where, why)


def test_hcl_bakegen_and_people_write_is_read() -> None:
    text = (
        '# c\nvariable "V" {\n  default = "x${V}y $${z} %%{w}"\n}\n'
        'function "f" {\n  params = [a]\n  result = a == "" ? [] : [a]\n}\n'
        'target "a" { context = "." }\n'
        'target "b" {\n  args = {\n    "K" = <<-EOT\n      multi\n      EOT\n  }\n'
        "  /* note */ labels = { for k, v in {a = 1} : k => v }\n}\n"
        'group "g" {\n  targets = ["a", "b"]\n}\n'
    )
    blocks = top_blocks(text)
    assert [(b.type, b.labels) for b in blocks] == [
        ("variable", ("V",)),
        ("function", ("f",)),
        ("target", ("a",)),
        ("target", ("b",)),
        ("group", ("g",)),
    ]


def test_a_context_may_name_a_target_the_override_adds(tmp_path: Path) -> None:
    ws = workspace(tmp_path, EVERY_BLOCK + 'target "wheels" {\n  context = "."\n}\n')
    manifest = ws / "manifest" / "manifest.yml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text + 'bake:\n  contexts: {wheels: "target:wheels"}\n', encoding="utf-8")
    assert run_cli("render", cwd=ws).code == 0
    (ws / "docker-bake.hcl.j2").unlink()
    refused = run_cli("render", cwd=ws)
    assert refused.code == 2
    assert "bake.contexts.wheels: 'target:wheels' names no target of the bake file" in refused.err
