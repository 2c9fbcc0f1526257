"""The README's manifest reference names every key the schema accepts, so docs cannot drift."""

from __future__ import annotations

from typing import Any

import typer

from bakegen.cli import app
from bakegen.schema.document import defaults, manifest_schema
from scripts.reference import begin, rewrite, tables
from testing.helpers import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def keys(schema: dict[str, Any]) -> set[str]:
    found = set(schema.get("properties", {}))
    for sub in schema.get("properties", {}).values():
        found |= keys(sub)
    for sub in schema.get("$defs", {}).values():
        found |= keys(sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found |= keys(extra)
    items = schema.get("items")
    if isinstance(items, dict):
        found |= keys(items)
    return found


def test_every_schema_key_is_documented() -> None:
    missing = sorted(k for k in keys(manifest_schema()) if f"`{k}`" not in README)
    assert missing == []


def test_every_default_release_type_is_documented() -> None:
    for name, spec in defaults()["release_types"].items():
        assert f"| `{name}` |" in README
        if "tag" in spec:
            assert f"`{spec['tag']}`" in README


def test_every_command_is_documented() -> None:
    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"render", "validate", "list", "schema", "explain", "graph", "docs"} <= set(commands)
    for command in commands:
        assert f"`bakegen {command}" in README, command
        assert run_cli(command, "--help", cwd=ROOT).code == 0


def test_manifest_reference_is_made_from_the_schema() -> None:
    """The README's key tables are the schema's descriptions: `python -m bakegen.reference`."""
    assert rewrite(README) == README
    for name in tables():
        assert begin(name) in README
