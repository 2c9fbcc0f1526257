"""The example workspace at the repository root: its committed output is exactly what renders.

The committed generated/ tree and docker-bake.hcl are the golden files: review their diff when
they change, then commit them with the change that caused it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from testing.helpers import ROOT, run_cli, tree


def test_committed_output_is_up_to_date() -> None:
    result = run_cli("render", "--check", cwd=ROOT)
    assert result.code == 0, f"run `bakegen render` and review the diff:\n{result.out}"


def test_render_is_independent_of_working_directory(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(ROOT / "docker-bake.hcl.j2", ws / "docker-bake.hcl.j2")
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, ws / name)
    assert run_cli("render", "-C", str(ws), cwd=tmp_path).code == 0
    expected = {k: v for k, v in tree(ROOT).items() if k.startswith("generated/")}
    got = tree(ws)
    assert {k: v for k, v in got.items() if k.startswith("generated/")} == expected
    assert got["docker-bake.hcl"] == (ROOT / "docker-bake.hcl").read_bytes()
