"""The error boundary: where every error becomes one line on stderr and an exit code (the codes
are in errors.py), for the typer command line and the fast entry alike."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from bakegen.errors import (
    EXIT_INTERNAL,
    EXIT_OUTPUT,
    BakegenError,
    Interrupted,
    OutputUnwritable,
    one_line,
)
from bakegen.signals import handled

Say = Callable[[str, int], int]


class ClosedOutput(io.TextIOBase):
    """Standard output of a process started with it closed (Python's `sys.stdout` is None
    then): what is written to it is the one-line error, whoever writes it (typer's help,
    rich, a command); a command that writes nothing there runs as usual."""

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        del text
        raise OutputUnwritable("standard output is closed")


def run(body: Callable[[], int], say: Say) -> int:
    """Run `body` with termination signals as `Interrupted`; its errors become lines (through
    `say`) and the exit code, never a traceback (`BAKEGEN_DEBUG=1` shows one for a bug)."""
    closed = sys.stdout is None
    if closed:
        sys.stdout = ClosedOutput()
    try:
        return _run(body, say)
    finally:
        if closed:
            sys.stdout = None


def _run(body: Callable[[], int], say: Say) -> int:
    code = 0
    try:
        with handled():
            try:
                code = body()
            finally:
                if sys.stdout is not None:
                    sys.stdout.flush()
    except BakegenError as exc:
        for line in exc.lines():
            if say(line, exc.exit_code) == EXIT_OUTPUT:
                break
        code = exc.exit_code
    except Interrupted as exc:
        code = say(f"bakegen: interrupted by {exc.name}; nothing was changed", 128 + exc.signum)
    except OSError as exc:
        if exc.errno is None or not _is_output_error(exc):
            code = internal(exc, say)
        else:
            code = say(f"bakegen: cannot write the output: {exc.strerror}", EXIT_OUTPUT)
    except Exception as exc:  # the last resort: a bug in bakegen, not in the input
        code = internal(exc, say)
    return code


def _is_output_error(exc: OSError) -> bool:
    return exc.errno in (errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO)


def internal(exc: BaseException, say: Say) -> int:
    if os.environ.get("BAKEGEN_DEBUG"):
        traceback.print_exc()
        return EXIT_INTERNAL
    return say(
        f"internal error: {type(exc).__name__}: {exc} (set BAKEGEN_DEBUG=1 for a traceback)",
        EXIT_INTERNAL,
    )


def say(err: Any, line: str, code: int) -> int:
    """Print one line on stderr; when stderr cannot be written, the exit code still tells."""
    try:
        err.print(one_line(line))
        err.file.flush()
    except (OSError, ValueError, AttributeError):
        return EXIT_OUTPUT if code == 0 else code
    return code


def exit_with(code: int) -> None:
    """Exit with `code`; output that cannot be flushed at exit must not change it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            # Nothing more can be written there: point the descriptor at /dev/null so that the
            # interpreter's own flush at exit does not fail again, and say so by the code.
            devnull = os.open(os.devnull, os.O_WRONLY)
            with contextlib.suppress(OSError, ValueError):
                os.dup2(devnull, stream.fileno())
            code = code or EXIT_OUTPUT
    sys.exit(code)
