"""The command contract (one module per command, a run() returning its exit code); explain,
graph, docs and init as functions over the example workspace's plan."""

from __future__ import annotations

import importlib
import inspect
import json
import typing
from pathlib import Path

import pytest
import typer

from bakegen import cli, write
from bakegen.commands import docs, graph
from bakegen.commands.explain import as_text, explain, explained_json
from bakegen.commands.init import starter_files, write_starter
from bakegen.errors import OutputConflict, UsageError, WriteFailed
from bakegen.manifest.records import Manifest
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.plan.records import Plan
from testing.helpers import ROOT, make_workspace, run_cli
from tests.integration.test_bake_key_conformance import MANIFEST as BAKE_MANIFEST

RUNTIME = "model-server-runtime-debian12-py311"
MANIFEST = (ROOT / "manifest" / "manifest.yml").read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def example() -> tuple[Manifest, Plan]:
    m = read_manifest(ROOT)
    return m, plan_manifest(m)


# Each command of the command line, by its module in bakegen.commands.
COMMANDS = {
    "render": "render",
    "validate": "validate",
    "list": "list",
    "schema": "schema",
    "docs": "docs",
    "explain": "explain",
    "graph": "graph",
    "init": "init",
    "smoke": "smoke",
    "affected": "affected",
    "ci github": "ci_github",
    "ci ids": "ci_ids",
    "pin": "pin",
    "version": "version",
}
NOT_COMMANDS = {"__init__", "completion", "options", "typer_options"}


def test_one_module_per_command_each_a_run_returning_its_exit_code() -> None:
    group = typer.main.get_command(cli.app)
    names = {
        f"{name} {sub}" if isinstance(command, type(group)) else name
        for name, command in group.commands.items()  # type: ignore[attr-defined]
        for sub in (getattr(command, "commands", None) or [""])
    }
    assert names == set(COMMANDS)
    folder = ROOT / "bakegen" / "commands"
    assert {p.stem for p in folder.glob("*.py")} - NOT_COMMANDS == set(COMMANDS.values())
    for module_name in COMMANDS.values():
        run = importlib.import_module(f"bakegen.commands.{module_name}").run
        assert typing.get_type_hints(run)["return"] is int, module_name
        assert next(iter(inspect.signature(run).parameters)) == "io", module_name


def test_docs_write_replaces_the_table_in_one_rename(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", BAKE_MANIFEST)
    readme = ws / "README.md"
    readme.write_text(f"intro\n{docs.BEGIN}\nold\n{docs.END}\n", encoding="utf-8")
    readme.chmod(0o640)
    (ws / "link.md").symlink_to("README.md")
    first = run_cli("docs", "--write", "link.md", cwd=ws)
    assert (first.code, first.err) == (0, "link.md: image table updated\n")
    assert (ws / "link.md").is_symlink()  # the file it names was replaced
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text
    assert "| release type |" in text
    assert readme.stat().st_mode & 0o777 == 0o640
    again = run_cli("docs", "--write", "README.md", cwd=ws)
    assert (again.code, again.err) == (0, "README.md: image table up to date\n")
    assert sorted(p.name for p in ws.iterdir() if "bakegen-tmp" in p.name) == []


def test_docs_write_that_fails_changes_nothing_and_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path / "ws", BAKE_MANIFEST)
    readme = ws / "README.md"
    before = f"{docs.BEGIN}\n{docs.END}\n"
    readme.write_text(before, encoding="utf-8")
    # The staged copy cannot be made (ENOSPC or EROFS would fail the same way).
    monkeypatch.setattr(write, "_side_name", lambda path, *_: path.parent / "gone" / path.name)
    result = run_cli("docs", "--write", "README.md", cwd=ws)
    assert (result.code, result.err) == (
        WriteFailed.exit_code,
        "README.md: cannot write: No such file or directory; nothing was changed\n",
    )
    assert readme.read_text(encoding="utf-8") == before


def line_of(text: str) -> int:
    """The 1-based line of the example manifest holding `text` (first one)."""
    return next(i for i, line in enumerate(MANIFEST, 1) if text in line)


def test_explain_points_at_the_line_each_value_is_written(example: tuple[Manifest, Plan]) -> None:
    m, plan = example
    note, rows = explain(m, plan, RUNTIME)
    assert note == "an image"
    found = {r.field: r for r in rows}
    where = "manifest/manifest.yml"
    # An envar merged through `<<: *release_spec`: the line in the anchor.
    assert found["envar LANG"].origin.startswith(f"{where}:{line_of('- LANG=C.UTF-8')}:")
    assert found["base image"].value == "debian:bookworm-slim"
    assert found["base image"].origin.startswith(
        f"{where}:{line_of('base_image: debian:bookworm-slim')}:"
    )
    assert found["python"].origin.startswith(f"{where}:{line_of('python_versions: [')}:")
    assert found["tag format"].origin == "default"  # runtime's tag format is bakegen's default
    aliases = {r.value: r.origin for r in rows if r.field == "alias"}
    assert aliases["latest"].startswith(f"{where}:{line_of('- tag: latest')}:")
    assert found["built FROM"].value == "model-server-base-debian12-py311"
    text = as_text(RUNTIME, note, rows)
    assert text[0] == f"{RUNTIME}: an image"
    assert (
        json.loads(json.dumps(explained_json(RUNTIME, note, rows)))["values"][0]["field"]
        == "package"
    )


def test_explain_a_verify_target_and_a_misspelt_one(example: tuple[Manifest, Plan]) -> None:
    m, plan = example
    note, _ = explain(m, plan, f"{RUNTIME}-verify")
    assert note == f"the verify check of {RUNTIME}"
    with pytest.raises(UsageError, match=f"did you mean '{RUNTIME}'"):
        explain(m, plan, "model-server-runtime-debian12-py31")


def test_graph_of_one_target_has_its_parents_and_children(example: tuple[Manifest, Plan]) -> None:
    _, plan = example
    base = "model-server-base-debian12-py311"
    chosen = {i.target for i in graph.select(plan, target=base)}
    assert chosen == {base, RUNTIME, "model-server-devel-debian12-py311"}
    text = graph.mermaid(graph.select(plan, target=base))
    assert text.startswith("flowchart LR\n")
    assert "model_server_base_debian12_py311 --> model_server_runtime_debian12_py311" in text
    dot = graph.dot(graph.select(plan, target=base))
    assert f'"{graph.node_id(base)}" -> "{graph.node_id(RUNTIME)}";' in dot
    assert f'"{graph.node_id(base)}" [label="{base}"];' in dot


def test_graph_of_a_release_type_brings_its_parents(example: tuple[Manifest, Plan]) -> None:
    _, plan = example
    chosen = graph.select(plan, package="yatai-service", release_type="runtime")
    kinds = {i.release_type for i in chosen}
    assert kinds == {"runtime", "base"}
    assert {i.package for i in chosen} == {"yatai-service"}


def test_docs_table_and_markers(example: tuple[Manifest, Plan]) -> None:
    _, plan = example
    table = docs.table(plan, {"VERSION": "1.4.0", "HUB_PASSWORD": "x"})
    assert "### model-server" in table
    assert (
        "| runtime | debian 12 | 3.11 |  | linux/amd64, linux/arm64 | `debian:bookworm-slim` | "
        "`docker.io/example/model-server:1.4.0-python3.11-bookworm-runtime`<br>"
        "`docker.io/example/model-server:latest`<br>`docker.io/example/model-server:python3.11` |"
    ) in table
    readme = f"intro\n{docs.BEGIN}\nold\n{docs.END}\nrest\n"
    once = docs.replace_between_markers(readme, table, "README.md")
    assert docs.replace_between_markers(once, table, "README.md") == once
    assert once.startswith(f"intro\n{docs.BEGIN}\n\n### model-server")
    assert once.endswith(f"\n\n{docs.END}\nrest\n")
    with pytest.raises(
        UsageError, match=r"no <!-- bakegen:tags --> \.\.\. <!-- /bakegen:tags --> markers"
    ):
        docs.replace_between_markers("no markers", table, "README.md")


def test_init_writes_a_workspace_that_renders_and_refuses_to_overwrite(tmp_path: Path) -> None:
    ws = tmp_path / "new"
    written = write_starter(ws)
    assert written == sorted(starter_files())
    assert "manifest/manifest.yml" in written
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    assert run_cli("render", "--check", cwd=ws).code == 0
    before = {p: (ws / p).read_text(encoding="utf-8") for p in written}
    (ws / "README.md").write_text("mine\n", encoding="utf-8")
    with pytest.raises(OutputConflict):
        write_starter(ws)
    assert (ws / "README.md").read_text(encoding="utf-8") == "mine\n"
    assert all(
        (ws / p).read_text(encoding="utf-8") == before[p] for p in written if p != "README.md"
    )


def test_explain_shows_where_each_bake_value_comes_from(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, BAKE_MANIFEST)
    m = read_manifest(ws)
    _, rows = explain(m, plan_manifest(m), "app-runtime-debian12-py312")
    lines = BAKE_MANIFEST.splitlines()

    def written(text: str, after: str = "") -> str:
        start = next(i for i, line in enumerate(lines) if after in line)
        line = next(i for i, line in enumerate(lines[start:], start + 1) if text in line)
        return f"manifest/manifest.yml:{line}:"

    found = {r.field: r for r in rows if r.field.startswith("bake ")}
    assert found["bake shm-size"].value == "4g"  # the distro release's, over the top level's
    assert found["bake shm-size"].origin.startswith(written("shm-size: 4g"))
    assert found["bake labels team"].value == "app"  # the package's, over the top level's
    assert found["bake labels team"].origin.startswith(written("labels: {team: app}"))
    assert found["bake labels tier"].origin.startswith(written("tier: gold"))
    assert found["bake no-cache"].value == "true"
    assert found["bake no-cache"].origin.startswith(written("no-cache: true"))
    assert found["bake ulimits"].value == "(empty)"
    assert found["bake attest"].value == "type=sbom, type=provenance,mode=min"
    assert list(found) == sorted(found)
