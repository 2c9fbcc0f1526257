"""The fast entry reads `render` and `--version` without typer, exactly as typer would: same
exit code, same output, same files; and it hands every other command line to typer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bakegen import entry
from tests.helpers import ROOT, Result, copy_workspace, run_cli, run_process, tree

FAST = [
    ["render"],
    ["render", "--check"],
    ["render", "-f", "json"],
    ["render", "--format", "json", "--check"],
    ["render", "--max-targets", "1"],
    ["render", "--max-targets", "500"],
    ["-C", "ws", "render"],
    ["--workspace", "ws", "-m", "manifest/manifest.yml", "render"],
    ["render", "-C", "ws", "--manifest", "manifest"],
    ["-C", "elsewhere", "render", "-C", "ws"],
    ["render", "-C", "missing"],
    ["render", "-m", "missing.yml"],
    ["render", "-C", "ws/manifest/manifest.yml"],
    ["--version"],
    ["version"],
]
TYPER = [
    [],
    ["--help"],
    ["render", "--help"],
    ["render", "--format=json"],
    ["render", "--format", "xml"],
    ["render", "--max-targets", "0"],
    ["render", "--max-targets", "x"],
    ["render", "--check", "--check"],
    ["render", "-C", "--check"],
    ["render", "-C"],
    ["render", "--bogus"],
    ["render", "extra"],
    ["-f", "json", "render"],
    ["validate"],
    ["-C", "ws", "--version"],
]


def fresh(tmp_path: Path, name: str) -> Path:
    """The corpus's good workspace as `ws` in a fresh folder, beside an empty one."""
    top = tmp_path / name
    shutil.copytree(ROOT / "tests" / "corpus" / "_base", top / "ws")
    (top / "elsewhere").mkdir()
    return top


@pytest.mark.parametrize("args", FAST + TYPER, ids=" ".join)
def test_the_fast_entry_does_what_typer_does(args: list[str], tmp_path: Path) -> None:
    results = {}
    for name, typer_only in (("typer", True), ("fast", False)):
        top = fresh(tmp_path, name)
        where = top if "-C" in args or "--workspace" in args else top / "ws"
        # Twice: a first render, then one with its state (an unchanged workspace).
        said = [run_cli(*args, cwd=where, typer_only=typer_only) for _ in range(2)]
        shown = [Result(r.code, r.out, r.err.replace(str(top), "TOP")) for r in said]
        results[name] = shown, tree(top)
    assert results["fast"] == results["typer"]


@pytest.mark.parametrize("args", FAST)
def test_the_fast_entry_reads_these_itself(args: list[str]) -> None:
    assert entry.read_render(args) is not None or args in (["--version"], ["version"])


@pytest.mark.parametrize("args", TYPER, ids=" ".join)
def test_typer_reads_these(args: list[str]) -> None:
    assert entry.read_render(args) is None


def test_an_unchanged_render_loads_no_heavy_library(tmp_path: Path) -> None:
    ws = copy_workspace("seedlike", tmp_path)
    # Python lists every module it imports on stderr, one `import time:` line each.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONPROFILEIMPORTTIME": "1",
        "BAKEGEN_CACHE": str(tmp_path / "cache"),  # nothing known yet
    }
    loaded = []
    for round_ in range(3):
        if round_ == 2:  # a manifest the schema refuses: jsonschema says why
            with (ws / "manifest" / "manifest.yml").open("a", encoding="utf-8") as f:
                f.write("max_targets: 0\n")
        proc = run_process("render", cwd=ws, env=env)
        assert proc.returncode == (2 if round_ == 2 else 0), proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
        loaded.append({line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines})
    assert "max_targets" in proc.stderr
    heavy = {"typer", "click", "rich", "jinja2", "yaml", "jsonschema", "pydantic"}
    assert heavy & loaded[0] == {"jinja2", "yaml"}  # valid: the compiled check, no jsonschema
    assert heavy & loaded[1] == set()
    assert "jsonschema" in loaded[2]


def test_help_is_typer_s_own_and_keeps_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BAKEGEN_CACHE": str(tmp_path / "cache")}
    for columns, args in (
        ("80", ["--help"]),
        ("60", ["--help"]),
        ("80", ["ci", "github", "--help"]),
    ):
        proc = run_process(*args, cwd=tmp_path, env={**env, "COLUMNS": columns})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Usage: ")
        assert max(len(line) for line in proc.stdout.splitlines()) <= int(columns)
    proc = run_process("bogus", "--help", cwd=tmp_path, env=env)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "No such command" in proc.stderr
    assert not (tmp_path / "cache").exists()  # help is never kept: typer says it each time
