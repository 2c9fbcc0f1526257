"""Termination signals become an exception, so that every write rolls back as for Ctrl-C.

`timeout`, a cancelled CI job and `docker stop` send SIGTERM; a closed terminal SIGHUP. While
`handled()` is active, the first such signal raises `Interrupted` where the program is; the
rollback then runs with further signals ignored, and the exit code is 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from bakegen.errors import Interrupted

SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    if hasattr(signal, name)
)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT, SIGTERM, SIGHUP and SIGQUIT into `Interrupted`."""
    previous = {s: signal.getsignal(s) for s in SIGNALS}

    def stop(signum: int, _frame: FrameType | None) -> None:
        for s in SIGNALS:  # one is enough: the rollback must not be cut short
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum, signal.Signals(signum).name)

    for s in SIGNALS:
        signal.signal(s, stop)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
