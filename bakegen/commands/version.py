"""`bakegen version` (and `--version`): bakegen's version."""

from __future__ import annotations

from bakegen import __version__
from bakegen.output import Streams


def run(io: Streams) -> int:
    io.out.print(__version__)
    return 0
