"""The fast entry reads `render` and `--version` without typer, exactly as typer would: same
exit code, same output, same files; and it hands every other command line to typer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bakegen import entry
from testing.helpers import ROOT, Result, run_cli, tree

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
