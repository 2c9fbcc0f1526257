"""Shared test helpers: workspaces in temp folders, the CLI run in-process, real tools."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bakegen import cli
from bakegen.cli import main
from bakegen.output import console

ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = Path(__file__).resolve().parent / "workspaces"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass
class Result:
    code: int
    out: str
    err: str


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed author; its standard output."""
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def run_cli(*args: str, cwd: Path) -> Result:
    """Run `bakegen ARGS` in-process in `cwd`, returning exit code and output."""
    stdout, stderr = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    code = 0
    try:
        with (
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
            pytest.MonkeyPatch.context() as mp,
        ):
            mp.setattr(sys, "argv", ["bakegen", *args])
            mp.setenv("COLUMNS", "200")
            mp.setattr(cli, "out", console(file=stdout, width=200))
            mp.setattr(cli, "err", console(file=stderr, width=200))
            try:
                main()
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def run_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bakegen ARGS` in a real process (what a user's shell does)."""
    return subprocess.run(
        [sys.executable, "-m", "bakegen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def make_workspace(tmp: Path, manifest: str, *, templates_from: Path = ROOT) -> Path:
    """A workspace in `tmp` with the given manifest text and a copy of the repo's templates."""
    shutil.copytree(templates_from / "templates", tmp / "templates")
    (tmp / "manifest").mkdir()
    (tmp / "manifest" / "manifest.yml").write_text(manifest, encoding="utf-8")
    return tmp


def copy_workspace(name: str, tmp: Path) -> Path:
    """A copy of tests/workspaces/NAME with the repo's templates beside its manifest."""
    dest = tmp / name
    shutil.copytree(WORKSPACES / name, dest)
    if not (dest / "templates").exists():
        shutil.copytree(ROOT / "templates", dest / "templates")
    return dest


def tree(path: Path) -> dict[str, bytes]:
    """Every file under `path` with its bytes, for before/after comparisons."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def need_tool(name: str, how: str) -> str:
    """The path of a real tool; in CI a missing tool fails the test, locally it skips."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} not found; {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def buildx() -> list[str]:
    """The docker buildx command, or fail (CI) / skip (locally) naming how to install it."""
    need_tool("docker", "run scripts/engine.sh install-buildx")
    probe = subprocess.run(
        ["docker", "buildx", "version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        message = "docker buildx plugin missing; run scripts/engine.sh install-buildx"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return ["docker", "buildx"]


def bake_print(
    workspace: Path,
    *targets: str,
    env: dict[str, str] | None = None,
    files: list[str] | None = None,
) -> dict[str, Any]:
    """Real `docker buildx bake --print` in `workspace`, parsed."""
    cmd = [*buildx(), "bake", "--print"]
    for f in files or []:
        cmd += ["-f", f]
    base_env = {k: v for k, v in os.environ.items() if k not in {"VERSION", "HUB_PASSWORD"}}
    proc = subprocess.run(
        [*cmd, *targets],
        cwd=workspace,
        env={**base_env, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


MINIMAL_MANIFEST = """\
python_versions: ["3.12"]
packages:
  app:
    runtime: [debian]
releases:
  debian:
    "12":
      templates_dir: templates/t
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
"""


def minimal_workspace(tmp: Path, manifest: str = MINIMAL_MANIFEST) -> Path:
    """A workspace in `tmp`/ws: one package, one distro release, two one-line templates."""
    ws = tmp / "ws"
    (ws / "manifest").mkdir(parents=True)
    (ws / "templates" / "t").mkdir(parents=True)
    (ws / "manifest" / "m.yml").write_text(manifest, encoding="utf-8")
    (ws / "templates" / "t" / "base.Dockerfile.j2").write_text("FROM {{ base_image }}\n")
    (ws / "templates" / "t" / "runtime.Dockerfile.j2").write_text("FROM base\n")
    return ws
