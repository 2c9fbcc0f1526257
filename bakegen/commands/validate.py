"""`bakegen validate`: check the manifest and its templates; write nothing."""

from __future__ import annotations

from pathlib import Path

from bakegen.commands.render import targets_line
from bakegen.output import Streams
from bakegen.pipeline import compile_workspace


def run(io: Streams, ws: Path, manifest: Path | None, *, max_targets: int | None = None) -> int:
    compiled = compile_workspace(ws, manifest, "hcl", max_targets)
    io.warn(compiled.warnings)
    io.err.print(f"ok: {targets_line(compiled.plan)}")
    return 0
