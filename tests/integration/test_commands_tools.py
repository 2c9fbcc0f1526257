"""Commands against real tools: `bakegen init`'s workspace read by `docker buildx bake --print`,
shell completion in a real process, `smoke --dry-run`'s commands run by bash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bakegen.commands.init import write_starter
from bakegen.commands.smoke import docker_run
from bakegen.plan.records import DeclaredTest
from testing.helpers import ROOT, bake_print, make_workspace, run_cli
from tests.unit.test_hostile_output import MANIFEST, RUN, TAG, VERSION


@pytest.mark.buildx
def test_init_workspace_passes_bake_print(tmp_path: Path) -> None:
    ws = tmp_path / "new"
    write_starter(ws)
    assert run_cli("render", cwd=ws).code == 0
    printed = bake_print(ws, "default", "verify")
    assert sorted(printed["target"]) == [
        "app-base-debian12-py311",
        "app-devel-debian12-py311",
        "app-devel-debian12-py311-verify",
        "app-runtime-debian12-py311",
        "app-runtime-debian12-py311-verify",
    ]


def test_shell_completion_offers_target_names() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "_BAKEGEN_COMPLETE": "complete_bash",
        "COMP_WORDS": "bakegen explain yatai-service-runtime-d",
        "COMP_CWORD": "2",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'bakegen'; from bakegen.cli import main; main()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "yatai-service-runtime-debian12-py311",
        "yatai-service-runtime-debian13-py313",
        "yatai-service-runtime-debian12-py311-verify",
        "yatai-service-runtime-debian13-py313-verify",
    ]


def test_smoke_dry_run_lines_run_in_bash_as_the_very_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `smoke --dry-run` prints, pasted into bash, runs the command smoke would run."""
    monkeypatch.setenv("VERSION", VERSION)
    ws = make_workspace(tmp_path / "ws", MANIFEST)
    [line] = [
        line
        for line in run_cli("smoke", "--dry-run", cwd=ws).out.splitlines()
        if line.startswith("docker run")
    ]
    words = subprocess.run(
        ["bash", "-c", f"docker() {{ printf '%s\\0' \"$@\"; }}\n{line}"],
        capture_output=True,
        check=True,
        env={"LC_ALL": "C.UTF-8", "PATH": os.environ["PATH"]},
    ).stdout.decode()
    expected = docker_run(TAG, DeclaredTest(name="hostile", run=RUN, gpu=False))
    assert words.split("\0")[:-1] == expected[1:]
