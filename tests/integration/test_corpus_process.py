"""Bad inputs in a real process: corpus cases whose handling depends on the interpreter (stack
depth, encodings, tracebacks), and manifests that are a device or a FIFO (a timeout would catch a
render that reads them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.helpers import ROOT, run_process, tree
from tests.unit.test_corpus import CASES, rendered_base, swap_in

SUBPROCESS_CASES = (
    "yaml_unclosed_flow_list",
    "non_utf8",
    "yaml_deep_flow_lists",
    "yaml_unsupported_tags",
    "yaml_alias_cycle",
    "template_undefined_variable",
)


def test_the_process_cases_are_corpus_cases() -> None:
    for name in SUBPROCESS_CASES:
        assert any(case.name == name for case in CASES), name


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(name: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == name)
    ws = rendered_base(tmp_path)
    swap_in(ws, case)
    before = tree(ws)
    env = {k: v for k, v in os.environ.items() if k != "BAKEGEN_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    proc = run_process("render", cwd=ws, env=env)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == list(case.expected)
    assert proc.stdout == ""
    assert tree(ws) == before


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_manifest_that_is_not_a_regular_file_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    """/dev/zero would never end and a FIFO would block: both are refused before reading."""
    ws = rendered_base(tmp_path)
    if kind == "device":
        manifest = Path("/dev/zero")
        shown = "/dev/zero"
    else:
        manifest = ws / "manifest" / "pipe.yml"
        os.mkfifo(manifest)
        shown = "manifest/pipe.yml"
    before = tree(ws)
    proc = subprocess.run(
        [sys.executable, "-m", "bakegen", "render", "--manifest", str(manifest)],
        cwd=ws,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"{shown}:1:1: <root>: not a regular file; a manifest is a YAML file"
    ]
    assert tree(ws) == before
