"""The unit tier's guard (tests/unit/conftest.py) refuses what unit tests must not do, and lets
through what they may."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.helpers import ROOT, run_cli
from testing.sandbox import Refused, Sandbox


def refused(sandbox: Sandbox, attempt: Callable[[], object]) -> str:
    """What the guard said to `attempt`; forgotten, so that this test does not fail for it."""
    with pytest.raises(Refused):
        attempt()
    said = sandbox.refused.pop()
    assert sandbox.refused == []
    return said


def test_no_process(sandbox: Sandbox) -> None:
    said = refused(sandbox, lambda: subprocess.run([sys.executable, "-c", "pass"], check=False))
    assert said.startswith("start no process")
    assert "start no process" in refused(sandbox, lambda: os.system("true"))


def test_no_connection_and_no_name_lookup(sandbox: Sandbox) -> None:
    with socket.socket() as sock:
        said = refused(sandbox, lambda: sock.connect(("127.0.0.1", 9)))
    assert said == "open no connection (to ('127.0.0.1', 9))"
    assert refused(sandbox, lambda: socket.getaddrinfo("example.com", 443)).startswith(
        "look up no host name"
    )


def test_no_write_outside_temporary_folders(sandbox: Sandbox) -> None:
    target = ROOT / "never-written.txt"
    said = refused(sandbox, lambda: target.write_text("x", encoding="utf-8"))
    assert said == f"write only in temporary folders, not to {target}"
    refused(sandbox, (ROOT / "never-made").mkdir)
    refused(sandbox, lambda: os.open(ROOT / "never-opened", os.O_WRONLY | os.O_CREAT))
    refused(sandbox, Path.home().joinpath(".never-written").touch)
    assert not target.exists()
    assert not (ROOT / "never-made").exists()


def test_a_link_out_of_a_temporary_folder_is_followed(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "out").symlink_to(ROOT / "never-written.txt")
    refused(sandbox, lambda: (tmp_path / "out").write_text("x", encoding="utf-8"))
    (tmp_path / "out").unlink()  # the link itself is in the temporary folder


def test_reads_temporary_folders_and_the_cli_pass(sandbox: Sandbox, tmp_path: Path) -> None:
    assert (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x", encoding="utf-8")
    os.replace(tmp_path / "a" / "b" / "f", tmp_path / "a" / "g")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "h").write_bytes(b"x")
    with open(os.devnull, "w", encoding="utf-8") as null:
        null.write("x")
    assert run_cli("validate", cwd=ROOT).code == 0
    assert sandbox.refused == []
