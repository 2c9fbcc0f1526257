"""The second hostile probe's findings that need a real process, one class each, in the minimal
workspace it used (the rest: tests/unit/test_hardening_in_process.py).

Signals kill a real render process mid-write; outputs go to real pipes, closed descriptors and
/dev/full; a full disk is a 64 KiB tmpfs and a read-only folder an immutable one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from testing.helpers import (
    MINIMAL_MANIFEST,
    ROOT,
    minimal_workspace,
    need_root,
    run_cli,
    run_process,
    start_process,
    tree,
)

MANIFEST = MINIMAL_MANIFEST


def minimal(tmp: Path, manifest: str = MANIFEST) -> Path:
    return minimal_workspace(tmp, manifest)


def bakegen(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stderr: int | IO[Any] = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    """`python -m bakegen ARGS` in a real process, with `env` added to this one's."""
    return run_process(*args, cwd=cwd, env={**os.environ, **(env or {})}, stderr=stderr)


# --- lost or half-written files -----------------------------------------------------------


def big(tmp: Path) -> Path:
    """3,000 Dockerfiles: 1,500 packages x base and runtime."""
    packages = "".join(f"  app{i:04d}:\n    runtime: [debian]\n" for i in range(1500))
    manifest = MANIFEST.replace("  app:\n    runtime: [debian]\n", packages)
    return minimal(
        tmp,
        manifest.replace(
            'python_versions: ["3.12"]',
            'python_versions: ["3.12"]\nverify: false\nmax_targets: 10000',
        ),
    )


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"])
def test_a_signal_mid_write_rolls_everything_back(signame: str, tmp_path: Path) -> None:
    ws = big(tmp_path)
    assert bakegen("render", cwd=ws).returncode == 0
    (ws / "templates/t/runtime.Dockerfile.j2").write_text("FROM base\nRUN true\n")
    before = tree(ws)
    proc = start_process("render", cwd=ws)
    deadline = time.monotonic() + 60
    staged = False
    while time.monotonic() < deadline and proc.poll() is None:
        if any(ws.glob("generated/*/debian12/runtime/*.bakegen-tmp")):
            staged = True
            break
        time.sleep(0.005)
    assert staged, "the render finished before a staged file was seen"
    signum = getattr(signal, signame)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"bakegen: interrupted by {signame}; nothing was changed"
    )
    assert "Traceback" not in stderr
    assert tree(ws) == before


@contextlib.contextmanager
def tiny_disk(path: Path) -> Iterator[None]:
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_is_one_line_and_rolled_back(tmp_path: Path) -> None:
    need_root("mounting a small tmpfs")
    disk = tmp_path / "disk"
    with tiny_disk(disk):
        ws = minimal(disk)
        (ws / "manifest" / "m.yml").write_text(
            MANIFEST.replace(
                "debian:bookworm-slim",
                "debian:bookworm-slim\n      header: |\n" + "        # pad\n" * 3000,
            ),
            encoding="utf-8",
        )
        before = tree(ws)
        result = bakegen("render", cwd=ws)
        assert result.returncode == 2, result.stderr
        line = result.stderr.strip()
        assert line.endswith(": cannot write: No space left on device; nothing was changed"), line
        assert "\n" not in line
        assert tree(ws) == before


def test_an_immutable_output_folder_is_one_line(tmp_path: Path) -> None:
    need_root("chattr +i")
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "templates/t/runtime.Dockerfile.j2").write_text("FROM base\nRUN true\n")
    folder = ws / "generated/app/debian12/runtime"
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        before = tree(ws)
        result = bakegen("render", cwd=ws)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            "generated/app/debian12/runtime/Dockerfile: cannot write: Operation not permitted; "
            "nothing was changed"
        )
        assert tree(ws) == before
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


# --- output to pipes, files and closed descriptors -----------------------------------------


def test_piped_output_is_whole_lines_whatever_the_width(tmp_path: Path) -> None:
    long = "a-package-with-a-name-long-enough-to-wrap-any-narrow-terminal-column"
    ws = minimal(tmp_path, MANIFEST.replace("  app:", f"  {long}:"))
    env = {"COLUMNS": "20"}
    listed = bakegen("list", cwd=ws, env=env)
    assert f"{long}-runtime-debian12-py312\t3.12" in listed.stdout
    rendered = bakegen("render", cwd=ws, env=env)
    assert len(rendered.stderr.splitlines()) == 1
    (ws / "templates/t/base.Dockerfile.j2").write_text("FROM {{ base_image }}\nRUN true\n")
    check = bakegen("render", "--check", cwd=ws, env=env)
    assert f"update generated/{long}/debian12/base/Dockerfile" in check.stdout.splitlines()


def closed_stdout() -> None:
    os.close(1)


@pytest.mark.parametrize(
    "args", [["list", "--json"], ["schema"], ["--help"], ["render", "--help"], ["--version"]]
)
def test_closed_or_full_stdout_is_exit_74(args: list[str], tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    closed = run_process(*args, cwd=ws, preexec_fn=closed_stdout)
    assert closed.returncode == 74, closed.stderr
    assert closed.stderr == "standard output is closed\n"
    with open("/dev/full", "w") as full:
        proc = run_process(*args, cwd=ws, stdout=full)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr == "bakegen: cannot write the output: No space left on device\n"
    read, write = os.pipe()
    os.close(read)  # the reader has gone before bakegen writes: `bakegen --help | true`
    with os.fdopen(write, "w") as gone:
        piped = run_process(*args, cwd=ws, stdout=gone)
    assert piped.returncode == 74, piped.stderr
    assert piped.stderr == "bakegen: cannot write the output: Broken pipe\n"


def test_a_full_stderr_never_reads_as_drift(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    with open("/dev/full", "w") as full:
        proc = bakegen("validate", cwd=ws, stderr=full)
    assert proc.returncode == 74


# --- the command line ------------------------------------------------------------------------


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    for args in (["render", "--nope"], ["render", "--format", "yaml"], ["explain"], ["nope"]):
        proc = bakegen(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("bakegen: error: "), proc.stderr


def test_a_render_waiting_for_the_lock_says_so(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    fd = os.open(ws, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bakegen", "render"],
        cwd=ws,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert first == f"waiting for another bakegen render of {ws} to finish...\n"
    os.close(fd)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
