"""The second hostile probe's findings, one class each, in the minimal workspace it used.

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

from bakegen.layout import MARKER
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


def test_leftovers_beside_the_bake_file_are_drift_and_removed(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    hcl = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert run_cli("render", "--format", "json", "--check", cwd=ws).code == 1
    json_head = '{\n  "variable": {\n    "BAKEGEN": {\n      "default": "' + MARKER + '"\n'
    (ws / "docker-bake.hcl.0badf00d.bakegen-tmp").write_text(hcl[:100], encoding="utf-8")
    (ws / "docker-bake.json.deadbeef.bakegen-bak").write_text(json_head, encoding="utf-8")
    check = run_cli("render", "--check", cwd=ws)
    assert check.code == 1
    assert check.out.splitlines() == [
        "delete docker-bake.hcl.0badf00d.bakegen-tmp",
        "delete docker-bake.json.deadbeef.bakegen-bak",
    ]
    assert run_cli("render", cwd=ws).code == 0
    assert not list(ws.glob("*.bakegen-*"))
    assert run_cli("render", "--check", cwd=ws).code == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("README.md", f"# Images\n\nThese are {MARKER}, it says.\n"),
        ("README.md", f"Notes\n# {MARKER}\n"),
        ("notes.0badf00d.bakegen-bak", "my own notes\n"),
        ("Dockerfile.0badf00d.bakegen-tmp", "FROM mine\n"),
        ("notes.bakegen-tmp", "mine\n"),
    ],
)
def test_a_persons_file_in_generated_is_kept(name: str, text: str, tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "generated" / name).write_text(text, encoding="utf-8")
    result = run_cli("render", cwd=ws)
    assert result.code == 0
    assert (ws / "generated" / name).read_text(encoding="utf-8") == text
    assert f"warning: generated/{name}: not made by bakegen; left alone" in result.err


@pytest.mark.parametrize("blocker", ["generated", "generated/app", "generated/app/debian12"])
def test_a_file_where_a_folder_is_needed(blocker: str, tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    (ws / blocker).parent.mkdir(parents=True, exist_ok=True)
    (ws / blocker).write_text("mine\n", encoding="utf-8")
    before = tree(ws)
    for command in (["render"], ["render", "--check"]):
        result = run_cli(*command, cwd=ws)
        assert result.code == 2, result.err
        assert result.err.splitlines()[0].startswith(
            f"{blocker}: is a file where bakegen needs a folder (for generated/"
        )
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


@pytest.mark.parametrize("name", ["[/x]", "[bold]notes.txt", "a\x1b[31mred", "line\nbreak"])
def test_names_are_never_read_as_markup(name: str, tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "generated" / name).parent.mkdir(parents=True, exist_ok=True)
    (ws / "generated" / name).write_text("mine\n", encoding="utf-8")
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    shown = name.replace("\x1b", "\\x1b").replace("\n", "\\n")
    assert f"warning: generated/{shown}: not made by bakegen; left alone" in result.err


def closed_stdout() -> None:
    os.close(1)


@pytest.mark.parametrize("args", [["list", "--json"], ["schema"]])
def test_closed_or_full_stdout_is_exit_74(args: list[str], tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    closed = run_process(*args, cwd=ws, preexec_fn=closed_stdout)
    assert closed.returncode == 74, closed.stderr
    assert closed.stderr == "standard output is closed\n"
    with open("/dev/full", "w") as full:
        proc = run_process(*args, cwd=ws, stdout=full)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr == "bakegen: cannot write the output: No space left on device\n"


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


def test_workspace_paths_that_are_no_folders(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    cases = {
        "file": "file: is not a folder; -C names the workspace folder",
        "nope": "nope: workspace folder not found",
        "loop": "loop: cannot use as the workspace: ",
        "x" * 300: f"{'x' * 300}: cannot use as the workspace: File name too long",
    }
    for given, message in cases.items():
        result = run_cli("validate", "-C", given, cwd=tmp_path)
        assert result.code == 2, (given, result.err)
        assert result.err.startswith(message), result.err
        assert len(result.err.splitlines()) == 1


def test_options_before_the_command_and_manifest_relative_to_the_workspace(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = run_cli("-C", str(ws), "-m", "manifest/m.yml", "validate", cwd=elsewhere)
    after = run_cli("validate", "-C", str(ws), "-m", "manifest/m.yml", cwd=elsewhere)
    assert before.code == after.code == 0, before.err + after.err
    assert before.err == after.err == "ok: 3 targets (2 images, 1 verify)\n"
    version = run_cli("--version", cwd=elsewhere)
    assert (version.code, version.out.strip()) == (0, "0.1.0")


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


def test_manifest_paths_that_cannot_be_read(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    (ws / "loop").symlink_to(ws / "loop")
    long = "x" * 300
    cases = {
        "loop": f"<root>: {ws}/loop: a symlink that leads nowhere (a loop, or a missing target)",
        long: f"<root>: {ws}/{long}: cannot use as the manifest: File name too long",
        f"manifest/{long}.yml": (
            f"<root>: {ws}/manifest/{long}.yml: cannot use as the manifest: File name too long"
        ),
    }
    for given, message in cases.items():
        result = run_cli("validate", "-m", given, cwd=ws)
        assert result.code == 2, result.err
        assert result.err.splitlines() == [message]


def test_envars_no_dockerfile_writes_are_a_warning(tmp_path: Path) -> None:
    manifest = MANIFEST.replace(
        "add_to_tags: bookworm", "add_to_tags: bookworm\n      envars: [LANG=C.UTF-8, TZ=UTC]"
    )
    ws = minimal(tmp_path, manifest)
    (ws / "templates/t/base.Dockerfile.j2").write_text(
        'FROM {{ base_image }}\nENV LANG={{ envars["LANG"] | env_quote }}\n'
    )
    result = run_cli("validate", cwd=ws)
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "warning: manifest/m.yml:11:30: releases.debian.12.envars[1]: no Dockerfile of debian12 "
        "writes TZ (ENV): templates see envars but none uses this one",
        "ok: 3 targets (2 images, 1 verify)",
    ]
