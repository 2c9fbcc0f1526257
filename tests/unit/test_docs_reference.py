"""The documentation's generated parts stay what their sources make: the manifest reference is
the schema's (a description changed or a key added changes the page), the command reference is
the command line's, and the pictures draw the plans of their workspaces."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import typer

from bakegen.cli import app
from bakegen.schema.document import manifest_schema
from scripts.reference import out_of_date, pages
from scripts.reference_commands import walk
from scripts.reference_manifest import manifest_page
from scripts.reference_pictures import PICTURES, drawn, graph_of, stale
from testing.docs_pages import schema_keys
from testing.helpers import ROOT, run_cli

MANIFEST_PAGE = Path("docs/reference/manifest.md")
COMMANDS_PAGE = Path("docs/reference/commands.md")


def test_generated_pages_are_what_their_sources_make() -> None:
    """`python -m scripts.reference` writes them; this fails while one differs."""
    assert sorted(out_of_date()) == []


def test_every_schema_key_is_on_the_manifest_page() -> None:
    page = (ROOT / MANIFEST_PAGE).read_text(encoding="utf-8")
    assert sorted(k for k in schema_keys(manifest_schema()) if f"| `{k}` |" not in page) == []


def test_a_changed_description_changes_the_page() -> None:
    schema = copy.deepcopy(manifest_schema())
    schema["properties"]["version"]["description"] = "The tag's version, said anew"
    schema["$defs"]["release"]["properties"]["base_image"]["description"] = "Where FROM starts"
    page = manifest_page(schema)
    assert "| `version` | text | `devel` | The tag's version, said anew |" in page
    assert "Where FROM starts" in page
    assert page != pages()[MANIFEST_PAGE]


def test_a_new_key_anywhere_gets_a_row() -> None:
    schema: dict[str, Any] = copy.deepcopy(manifest_schema())
    new = {"type": "boolean", "default": False, "description": "A new switch."}
    schema["properties"]["new_switch"] = new
    schema["$defs"]["image_test"]["properties"]["timeout"] = {
        "type": "integer",
        "minimum": 1,
        "description": "Seconds a test may take.",
    }
    page = manifest_page(schema)
    assert "| `new_switch` | `true` or `false` | `false` | A new switch. |" in page
    test_table = page.split("## Test {#image-test}")[1].split("\n## ")[0]
    assert "| `timeout` | integer of at least 1 |  | Seconds a test may take. |" in test_table


def test_every_command_and_option_is_on_the_commands_page() -> None:
    page = (ROOT / COMMANDS_PAGE).read_text(encoding="utf-8")
    commands = walk(typer.main.get_command(app))
    assert {"render", "validate", "graph", "ci github", "pin", "init"} <= {p for p, _ in commands}
    for path, command in commands:
        section = page.split(f"## bakegen {path} {{#")[1].split("\n## ")[0]
        for param in command.params:
            for flag in param.opts:
                shown = flag if flag.startswith("-") else param.name.upper()
                assert re.search(rf"`\[?{re.escape(shown)}", section), (path, flag)
        if command.help:
            assert command.help.split("\n")[0] in section
        assert run_cli(*path.split(), "--help", cwd=ROOT).code == 0, path


def test_the_pictures_draw_their_workspaces_plans() -> None:
    assert stale() == {}
    for rel in PICTURES:
        nodes, edges = drawn((ROOT / rel).read_text(encoding="utf-8"))
        assert nodes, rel
        assert edges, rel
    nodes, edges, _ = graph_of(ROOT)
    assert drawn((ROOT / "docs/images/example-graph.svg").read_text(encoding="utf-8")) == (
        nodes,
        edges,
    )


def test_a_picture_missing_an_image_or_an_edge_is_stale(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "docs" / "images", tmp_path / "docs" / "images")
    example = tmp_path / "docs" / "images" / "example-graph.svg"
    text = example.read_text(encoding="utf-8")
    edge = re.search(r'<g id="edge\d+" class="edge">.*?</g>\n', text, re.DOTALL)
    assert edge is not None
    example.write_text(text.replace(edge.group(0), ""), encoding="utf-8")
    assert sorted(stale(tmp_path)) == [Path("docs/images/example-graph.svg")]
    (tmp_path / "docs" / "images" / "first-workspace-graph.svg").unlink()
    assert len(stale(tmp_path)) == 2
