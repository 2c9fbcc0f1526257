"""A workspace's own docker-bake.hcl.j2: whatever it prints, the bake file stays bakegen's."""

from __future__ import annotations

import shutil
from pathlib import Path

from bakegen.layout import MARKER
from tests.helpers import ROOT, run_cli

BASE = ROOT / "tests" / "corpus" / "_base"


def workspace(tmp_path: Path, template: str) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(BASE, ws)
    (ws / "docker-bake.hcl.j2").write_text(template, encoding="utf-8")
    return ws


def test_an_override_without_the_marker_still_renders_again(tmp_path: Path) -> None:
    ws = workspace(tmp_path, 'target "x" {\n  context = "."\n}\n')
    first = run_cli("render", cwd=ws)
    assert first.code == 0, first.err
    text = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert text == f'# {MARKER}\ntarget "x" {{\n  context = "."\n}}\n'
    (ws / "docker-bake.hcl.j2").write_text('target "y" {\n}\n', encoding="utf-8")
    second = run_cli("render", cwd=ws)
    assert second.code == 0, second.err
    assert (ws / "docker-bake.hcl").read_text(encoding="utf-8").endswith('target "y" {\n}\n')
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_an_override_that_prints_the_marker_gets_it_once(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "# {{ marker }}\n# mine\n")
    assert run_cli("render", cwd=ws).code == 0
    assert (ws / "docker-bake.hcl").read_text(encoding="utf-8") == f"# {MARKER}\n# mine\n"


def test_an_override_with_a_byte_order_mark(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "\ufeff# {{ marker }}\n")
    assert run_cli("render", cwd=ws).code == 0
    assert (ws / "docker-bake.hcl").read_text(encoding="utf-8") == f"# {MARKER}\n"


def test_an_override_that_is_a_folder(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "")
    (ws / "docker-bake.hcl.j2").unlink()
    (ws / "docker-bake.hcl.j2").mkdir()
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "docker-bake.hcl.j2:1:1: <root>: is a folder, not a bake template"
    ]
