"""Write safety in real processes: a render waits for another's lock, and a FIFO in the output is
never opened (a timeout would catch a render that blocks on one)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bakegen.write import workspace_lock
from testing.helpers import ROOT, run_process, start_process
from tests.unit.test_write_safety import rendered, workspace


def test_a_render_waits_for_the_lock(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with workspace_lock(ws):
        proc = start_process("render", cwd=ws)
        try:
            time.sleep(1.5)
            assert proc.poll() is None, "render ran while another held the lock"
            assert not (ws / "generated").exists()
            assert not (ws / "docker-bake.hcl").exists()
        except BaseException:
            proc.kill()
            raise
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (ws / "docker-bake.hcl").is_file()


def test_a_fifo_in_the_output_is_never_opened(tmp_path: Path) -> None:
    """Reading a FIFO would block the render: one beside the output is left alone, one where
    bakegen writes a file is an error. A real process with a timeout, in case it ever blocks."""
    ws = rendered(tmp_path)
    os.mkfifo(ws / "generated" / "pipe")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def render() -> subprocess.CompletedProcess[str]:
        return run_process("render", cwd=ws, env=env, timeout=60)

    beside = render()
    assert beside.returncode == 0, beside.stderr
    assert "warning: generated/pipe: not made by bakegen; left alone" in beside.stderr
    target = ws / "generated/app/debian12/base/Dockerfile"
    target.unlink()
    os.mkfifo(target)
    at_output = render()
    assert at_output.returncode == 2
    assert at_output.stderr.splitlines() == [
        "generated/app/debian12/base/Dockerfile: is not a regular file, and bakegen writes one "
        "there; move it away"
    ]
    assert (ws / "generated" / "pipe").exists()
