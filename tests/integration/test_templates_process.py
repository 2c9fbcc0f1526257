"""Template files that are not regular files, read by a real render process (so that a blocking
read shows as a timeout)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testing.helpers import run_process
from tests.unit.test_templates import WHERE, workspace


def render(ws: Path) -> subprocess.CompletedProcess[str]:
    """`bakegen render` in a real process, so that a blocking read shows as a timeout."""
    return run_process("render", cwd=ws, timeout=60)


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_an_include_that_is_not_a_regular_file_is_named_unopened(tmp_path: Path, kind: str) -> None:
    ws = workspace(tmp_path, b'FROM base\n{% include "common/x.j2" %}\n')
    (ws / "templates" / "common").mkdir()
    target = ws / "templates" / "common" / "x.j2"
    if kind == "fifo":
        os.mkfifo(target)
        message = "is not a regular file"
    else:
        target.mkdir()
        message = "is a folder, not a template file"
    proc = render(ws)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [f"templates/common/x.j2:1:1: {WHERE}: {message}"]
