"""`bakegen ci github` writes its workflow: once, never over a file of the user's own, with the
command line its check job repeats; a bad manifest or option writes nothing."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from bakegen.layout import MARKER
from testing.helpers import make_workspace, run_cli

WORKFLOW = ".github/workflows/bakegen.yml"


MANIFEST = """\
python_versions: ["3.12"]
platforms: [linux/amd64, linux/arm64]
repository:
  hub:
    only_if: HUB_PASSWORD
    user: HUB_USERNAME
    pwd: HUB_PASSWORD
    registry: {app: docker.io/example/app}
packages:
  app: {runtime: [debian]}
releases:
  debian:
    "12": {templates_dir: templates/debian, base_image: "debian:bookworm-slim", add_to_tags: bookworm}
"""


def test_writes_once_and_never_over_a_foreign_file(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    first = run_cli("ci", "github", cwd=ws)
    assert first.code == 0, first.err
    assert f"{WORKFLOW}: created; 4 waves of 4 builds, 1 merge jobs" in first.err
    path = ws / WORKFLOW
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {MARKER}\n")
    stamp = path.stat().st_mtime_ns
    again = run_cli("ci", "github", cwd=ws)
    assert (again.code, path.stat().st_mtime_ns) == (0, stamp)
    assert "unchanged" in again.err
    assert run_cli("ci", "github", "--check", cwd=ws).code == 0
    # another option changes the text: --check says so (exit 1), and writes nothing
    drift = run_cli("ci", "github", "--check", "--branch", "release", cwd=ws)
    assert drift.code == 1
    assert f"{WORKFLOW} would change; run `bakegen ci github`" in drift.err
    assert path.read_text(encoding="utf-8") == text
    # a workflow of the user's own is never overwritten
    own = ws / ".github/workflows/own.yml"
    own.write_text("name: mine\n", encoding="utf-8")
    refused = run_cli("ci", "github", "-o", ".github/workflows/own.yml", cwd=ws)
    assert refused.code == 2
    assert "not made by bakegen" in refused.err
    assert own.read_text(encoding="utf-8") == "name: mine\n"
    assert path.read_text(encoding="utf-8") == text


def test_the_check_job_runs_the_same_command_line(tmp_path: Path) -> None:
    """The check job's `ci github --check` has every option given, so it passes on the
    workflow this command line wrote; a manifest named with -m is used by every bakegen step."""
    ws = make_workspace(tmp_path, MANIFEST)
    (ws / "manifest" / "manifest.yml").rename(ws / "images.yml")
    args = [
        "-m",
        "images.yml",
        "ci",
        "github",
        "--requirement",
        "bakegen>=0.1 ; python_version>'3'",
    ]
    args += ["--runner", "linux/amd64=big-x64", "--branch", "release", "--max-jobs", "5"]
    args += ["--gpu-runner", "gpu-l4"]
    assert run_cli(*args, cwd=ws).code == 0
    check = yaml.safe_load((ws / WORKFLOW).read_text(encoding="utf-8"))["jobs"]["check"]
    runs = [s["run"] for s in check["steps"] if "run" in s]
    install, render, again, affected = runs
    assert install == "python -m pip install 'bakegen>=0.1 ; python_version>'\"'\"'3'\"'\"''"
    assert render == "bakegen -m images.yml render --check"
    command = shlex.split(again)
    assert command[:5] == ["bakegen", "-m", "images.yml", "ci", "github"]
    result = run_cli(*command[1:], cwd=ws)
    assert result.code == 0, result.err
    assert "bakegen -m images.yml affected --since" in affected


def test_a_bad_manifest_is_exit_2(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST.replace("python_versions", "pythons"))
    result = run_cli("ci", "github", cwd=ws)
    assert result.code == 2
    assert "unknown key 'pythons'" in result.err
    assert not (ws / ".github").exists()


@pytest.mark.parametrize("bad", ["linux/arm64", "=label", "linux/arm64="])
def test_a_runner_must_be_platform_equals_label(tmp_path: Path, bad: str) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    result = run_cli("ci", "github", "--runner", bad, cwd=ws)
    assert result.code == 2
    assert "write PLATFORM=RUNNER-LABEL" in result.err
    assert not (ws / ".github").exists()
