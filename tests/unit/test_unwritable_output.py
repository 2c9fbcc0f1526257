"""Standard output that cannot be written (a full disk, a pipe whose reader has gone, a closed
descriptor) is one line on standard error and exit 74 for every command that prints there:
typer's help and a command's alike, never a traceback. (tests/integration/test_hardening.py
does the same with real processes.)"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bakegen import cli, entry
from bakegen.errors import EXIT_OUTPUT
from bakegen.output import Deferred
from testing.helpers import minimal_workspace, run_cli

COMMANDS = [
    ["--help"],
    ["render", "--help"],
    ["ci", "github", "--help"],
    ["--version"],
    ["version"],
    ["schema"],
    ["list"],
    ["list", "--json"],
    ["render", "--check"],  # with a file to update: the drift goes to standard output
]
SAID = {
    "a full disk": "bakegen: cannot write the output: No space left on device",
    "a closed pipe": "bakegen: cannot write the output: Broken pipe",
    "closed": "standard output is closed",
}


def _full() -> Any:
    return open("/dev/full", "w", encoding="utf-8")


def _closed_pipe() -> Any:
    read, write = os.pipe()
    os.close(read)
    return os.fdopen(write, "w", encoding="utf-8")


OUTPUTS: dict[str, Callable[[], Any]] = {
    "a full disk": _full,
    "a closed pipe": _closed_pipe,
    "closed": lambda: None,
}


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    ws = minimal_workspace(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "templates/t/runtime.Dockerfile.j2").write_bytes(b"FROM base\nRUN true\n")
    return ws


def run(args: list[str], stdout: Any, cwd: Path) -> tuple[int, str]:
    """`bakegen ARGS` in-process with `stdout` as standard output: the exit code and what was
    said on standard error."""
    err = io.StringIO()
    code = 0
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        mp.setattr(sys, "argv", ["bakegen", *args])
        mp.setattr(sys, "stdout", stdout)
        mp.setattr(sys, "stderr", err)
        mp.setattr(cli, "out", Deferred())
        mp.setattr(cli, "err", Deferred(stderr=True))
        try:
            entry.main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


@pytest.mark.parametrize("how", sorted(OUTPUTS))
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_output_that_cannot_be_written_is_one_line_and_exit_74(
    ws: Path, args: list[str], how: str
) -> None:
    stdout = OUTPUTS[how]()
    try:
        code, said = run(args, stdout, ws)
    finally:
        if stdout is not None:
            with contextlib.suppress(OSError):  # what is buffered cannot be written: the point
                stdout.close()
    assert (code, said) == (EXIT_OUTPUT, SAID[how] + "\n")


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_and_each_of_them_prints_there_when_it_can(ws: Path, args: list[str]) -> None:
    """The class above is real: each command line does print on standard output."""
    out = io.StringIO()
    code, said = run(args, out, ws)
    assert out.getvalue(), (code, said)
    assert code in (0, 1), said
