"""The shell bakegen writes for tag variables and CUDA checks, run as CI and the verify target
run it: the workflow's step in bash in a git checkout, the CUDA check test in sh."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bakegen.github.tag_variables import tag_variable_steps
from bakegen.plan.args import cuda_check_tests
from bakegen.plan.build import verify_script
from bakegen.plan.records import Plan
from testing.helpers import git, need_tool
from testing.unit import RELEASE, manifest_data, plan_of, typed

VARIABLES = {
    "date": {"ci": "commit-date"},
    "sha": {"ci": "short-sha"},
    "full": {"ci": "sha"},
    "ref": {"ci": "ref-name"},
    "local": {"default": "dev"},
}


def test_the_workflow_step_sets_each_variable_from_the_commit(tmp_path: Path) -> None:
    bash = need_tool("bash", "apt-get install bash")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "f").write_text("x", encoding="utf-8")
    git(repo, "add", "f")
    stamp = "2024-12-31T23:30:00-02:00"  # 2025-01-01 in UTC
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c"],
        cwd=repo,
        env={**os.environ, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp},
        check=True,
    )
    head = git(repo, "rev-parse", "HEAD").strip()
    (step,) = tag_variable_steps(typed(manifest_data(tag_variables=VARIABLES)))
    out = tmp_path / "github_env"
    env = {**os.environ, "GITHUB_ENV": str(out), "GITHUB_REF_NAME": "feature/new x"}
    subprocess.run([bash, "-e", "-c", step["run"]], cwd=repo, env=env, check=True)
    found = dict(line.split("=", 1) for line in out.read_text(encoding="utf-8").splitlines())
    assert found == {
        "DATE": "2025-01-01",
        "SHA": head[:7],
        "FULL": head,
        "REF": "feature-new-x",
    }


def cuda_plan(check: dict[str, str]) -> Plan:
    release = {**RELEASE, "cuda_install": "template", "cuda": "12.4.1", "cuda_check": check}
    return plan_of(
        manifest_data(packages={"app": {"cudnn": ["debian"]}}, releases={"debian": {"12": release}})
    )


def run_check(plan: Plan, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The verify target's test script of the CUDA image, in sh as its RUN step runs it."""
    sh = need_tool("sh", "apt-get install dash")
    image = next(i for i in plan.images if i.cuda)
    script = verify_script(cuda_check_tests(image.cuda))
    return subprocess.run(
        [sh, "-c", 'set -eu; eval "$TESTS"'],
        env={**{k: v for k, v in os.environ.items() if k != "TORCH_CUDA"}, "TESTS": script, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("printed", "ok"), [("12.4", True), ("12.4.1", True), ("12.6", False), ("", False)]
)
def test_a_command_check_passes_on_the_version_it_prints(
    tmp_path: Path, printed: str, ok: bool
) -> None:
    stub = tmp_path / "bin" / "python3"
    stub.parent.mkdir()
    stub.write_text(f"#!/bin/sh\necho '{printed}'\n", encoding="utf-8")
    stub.chmod(0o755)
    plan = cuda_plan({"run": "python3 -c 'import torch; print(torch.version.cuda)'"})
    proc = run_check(plan, tmp_path, {"PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}"})
    assert (proc.returncode == 0) is ok, proc.stderr
    if not ok:
        assert f"verify: CUDA '{printed}', expected 12.4.1" in proc.stderr
        assert "verify: test cuda_check failed" in proc.stderr


@pytest.mark.parametrize(("value", "ok"), [("12.4.1", True), ("12.4", False), (None, False)])
def test_a_variable_check_passes_on_the_full_version(
    tmp_path: Path, value: str | None, ok: bool
) -> None:
    env = {} if value is None else {"TORCH_CUDA": value}
    proc = run_check(cuda_plan({"env": "TORCH_CUDA"}), tmp_path, env)
    assert (proc.returncode == 0) is ok, proc.stderr
