"""Shared test helpers: workspaces in temp folders, the CLI run in-process, real tools."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import pytest

from bakegen import cli
from bakegen.entry import main
from bakegen.output import console

ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = ROOT / "tests" / "workspaces"
CORPUS = ROOT / "tests" / "corpus"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Where scripts/tools.sh installs the tools it fetches (its TOOLS).
TOOLS = Path(
    os.environ.get("BAKEGEN_TOOLS")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bakegen-tools"
)


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


def run_cli(*args: str, cwd: Path, typer_only: bool = False) -> Result:
    """Run `bakegen ARGS` in-process in `cwd`, returning exit code and output; `typer_only`
    skips the fast entry (bakegen.entry), as if it handed every command line to typer."""
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
                if typer_only:
                    cli.main()
                else:
                    main(out=cli.out, err=cli.err)
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def _process_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """`env` (default: this process's environment) with this checkout's bakegen importable."""
    return {**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)}


def run_process(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdout: int | IO[Any] = subprocess.PIPE,
    stderr: int | IO[Any] = subprocess.PIPE,
    preexec_fn: Callable[[], Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bakegen ARGS` in a real process (what a user's shell does), with this
    checkout's bakegen; `env` replaces the environment (default: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "bakegen", *args],
        cwd=cwd,
        env=_process_env(env),
        stdout=stdout,
        stderr=stderr,
        preexec_fn=preexec_fn,
        text=True,
        check=False,
        timeout=timeout,
    )


def start_process(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """Start `python -m bakegen ARGS` in a real process, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "bakegen", *args],
        cwd=cwd,
        env=_process_env(None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# The smallest workspace: one package, one Debian release, templates in templates/t.
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


def minimal_workspace(
    tmp: Path, manifest: str = MINIMAL_MANIFEST, runtime: bytes = b"FROM base\n"
) -> Path:
    """`tmp/ws` holding the minimal manifest (or `manifest`) and a two-line template pair."""
    ws = tmp / "ws"
    (ws / "manifest").mkdir(parents=True)
    (ws / "templates" / "t").mkdir(parents=True)
    (ws / "manifest" / "m.yml").write_text(manifest, encoding="utf-8")
    (ws / "templates" / "t" / "base.Dockerfile.j2").write_bytes(b"FROM {{ base_image }}\n")
    (ws / "templates" / "t" / "runtime.Dockerfile.j2").write_bytes(runtime)
    return ws


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


def unavailable(message: str) -> NoReturn:
    """A test that cannot run here: a failure in CI, a skip (saying how to run it) elsewhere."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def need_root(what: str) -> None:
    """Fail (CI) or skip (locally) unless this process is root."""
    if os.geteuid() != 0:
        unavailable(f"{what} needs root; run the tests as root")


def need_tool(name: str, how: str) -> str:
    """The path of a real tool; in CI a missing tool fails the test, locally it skips."""
    found = shutil.which(name)
    if found:
        return found
    unavailable(f"{name} not found; {how}")


def cosign() -> str:
    """The path of cosign: on PATH, or where scripts/tools.sh cosign puts it."""
    installed = TOOLS / "bin" / "cosign"
    if not shutil.which("cosign") and os.access(installed, os.X_OK):
        return str(installed)
    return need_tool("cosign", "run scripts/tools.sh cosign")


def buildx() -> list[str]:
    """The docker buildx command, or fail (CI) / skip (locally) naming how to install it."""
    need_tool("docker", "run scripts/engine.sh install-buildx")
    probe = subprocess.run(
        ["docker", "buildx", "version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        unavailable("docker buildx plugin missing; run scripts/engine.sh install-buildx")
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
