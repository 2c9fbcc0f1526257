"""`bakegen graph --format svg|png` through the real Graphviz `dot`, in a real process: the
picture holds every image and every FROM edge of the plan; without `dot` on PATH, one line
naming the package and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bakegen.pipeline import plan_workspace
from scripts.reference_pictures import drawn
from testing.helpers import ROOT, need_tool, run_process

DOT_HOW = "apt-get install graphviz (scripts/test.sh does)"


def test_svg_holds_every_image_and_edge_of_the_plan() -> None:
    need_tool("dot", DOT_HOW)
    proc = run_process("graph", "--format", "svg", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    ET.fromstring(proc.stdout.encode("utf-8"))  # well-formed XML
    plan = plan_workspace(ROOT)
    nodes, edges = drawn(proc.stdout)
    assert nodes == {i.target for i in plan.images}
    assert edges == {(i.parent, i.target) for i in plan.images if i.parent}


def test_png_is_a_png_picture_of_the_selection(tmp_path: Path) -> None:
    need_tool("dot", DOT_HOW)
    out = tmp_path / "graph.png"
    with out.open("wb") as handle:
        proc = subprocess.run(
            [sys.executable, "-m", "bakegen", "graph", "-f", "png", "--package", "model-server"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=handle,
            stderr=subprocess.PIPE,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_without_dot_one_line_naming_the_package(tmp_path: Path, fmt: str) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run_process("graph", "--format", fmt, cwd=ROOT, env={**os.environ, "PATH": str(empty)})
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "graphviz" in lines[0]
    assert f"--format {fmt}" in lines[0]
    assert "--format dot" in lines[0]
