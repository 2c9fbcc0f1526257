"""The fast entry reads `render` and `--version` without typer, exactly as typer would: same
exit code, same output, same files; and it hands every other command line to typer."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from bakegen import cli, entry
from bakegen.commands import render as render_command
from bakegen.commands.options import RENDER, Option
from bakegen.output import Lines, Streams
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


def _samples(option: Option) -> list[str | None]:
    """Values to give `option` on a command line (None: a flag, given alone)."""
    if option.kind is bool:
        return [None]
    if option.choices:
        return list(option.choices)
    if option.kind is int:
        return [str(option.minimum or 0), "500"]
    return ["."] if option.name == "workspace" else ["some/where.yml"]


def _spellings() -> list[list[str]]:
    """Every flag of every render option with each sample value, after `render` and (when it
    may stand there) before it; then all of them at once."""
    lines: list[list[str]] = [["render"]]
    for option in RENDER:
        for flag in option.flags:
            for value in _samples(option):
                words = [flag] if value is None else [flag, value]
                lines.append(["render", *words])
                if option.before:
                    lines.append([*words, "render"])
    every = [w for o in RENDER for w in (o.flags[-1], _samples(o)[-1]) if w is not None]
    return [*lines, ["render", *every]]


@pytest.mark.parametrize("args", _spellings(), ids=" ".join)
def test_render_s_options_reach_render_alike_through_either_reader(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made from the option table: an option added to it is tried here, both ways."""
    assert entry.read_render(args) is not None  # the fast entry reads it itself
    calls: list[tuple[Path, Path | None, dict[str, Any]]] = []

    def record(_io: Streams, ws: Path, manifest: Path | None, **given: Any) -> int:
        calls.append((ws, manifest, given))
        return 0

    monkeypatch.setattr(render_command, "run", record)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["bakegen", *args])

    def fast() -> None:
        entry.main(args, out=Lines(), err=Lines())

    for run in (fast, cli.main):
        with pytest.raises(SystemExit) as exited:
            run()
        assert exited.value.code == 0
    assert len(calls) == 2
    assert calls[0] == calls[1]
    assert set(calls[0][2]) == {o.name for o in RENDER} - {"workspace", "manifest"}


def test_typer_declares_render_s_options_from_the_table() -> None:
    command = typer.main.get_command(cli.app).commands["render"]  # type: ignore[attr-defined]
    declared = {p.name: p for p in command.params}
    assert list(declared) == [o.name for o in RENDER]
    for option in RENDER:
        param = declared[option.name]
        assert sorted([*param.opts, *param.secondary_opts]) == sorted(option.flags)
        assert (param.help, param.is_flag, param.min, param.show_default) == (
            option.help,
            option.kind is bool,
            option.minimum,
            option.show_default,
        )
        assert getattr(param.default, "value", param.default) == option.default
    group = typer.main.get_command(cli.app)
    before = {p.name for p in group.params if p.name in declared}
    assert before == {o.name for o in RENDER if o.before}
