"""The pre-commit hook, run by the real pre-commit on a temporary git repository: a stale
generated tree fails the commit check, a fresh one passes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from testing.helpers import ROOT, git, need_tool, run_cli

BASE = ROOT / "tests" / "corpus" / "_base"


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    tool = need_tool("pre-commit", "pip install -e '.[test]'")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        [tool, "try-repo", str(ROOT), "bakegen-check", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_hook_fails_on_a_stale_tree_and_passes_on_a_fresh_one(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    shutil.copytree(BASE, repo)
    assert run_cli("render", cwd=repo).code == 0
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "images")
    home = tmp_path / "pre-commit-home"  # the hook's environment, made once for both runs

    fresh = try_repo(repo, home)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "bakegen render --check" in fresh.stdout
    assert "Passed" in fresh.stdout

    template = repo / "templates" / "std" / "runtime.Dockerfile.j2"
    template.write_text(template.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    git(repo, "add", "-A")
    stale = try_repo(repo, home)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "Failed" in stale.stdout
    assert "update generated/app/debian12/runtime/Dockerfile" in stale.stdout
