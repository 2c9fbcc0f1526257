"""`bakegen affected --since REF`: the bake targets whose build inputs differ between a git
revision and the working tree (bakegen.affected.compare), one a line or as JSON with reasons;
`--bake FILE` also writes them as a bake file's group `affected`, in the workspace, as a render
writes its files (never over a file without bakegen's marker, never through a symlink)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bakegen.affected.compare import Affected, affected
from bakegen.emit.hcl import Expr, hcl_string, to_hcl
from bakegen.errors import UsageError
from bakegen.layout import BAKE_FILES, MARKER, OUTPUT_DIR
from bakegen.output import Streams
from bakegen.write import write_owned

__all__ = ["Affected", "affected", "bake_file", "bake_path", "run"]


def bake_file(targets: list[str]) -> str:
    """A bake file with one group `affected`, to pass with `-f` beside the workspace's (the
    group written as docker-bake.hcl writes its groups)."""
    items: list[Expr] = list(targets)
    group = f"group {hcl_string('affected')} {{\n  targets = {to_hcl(items, '  ')}\n}}\n"
    return f"# {MARKER}\n{group}"


def bake_path(workspace: Path, given: Path) -> str:
    """Where `--bake` writes, relative to the workspace (`given` is relative to the current
    folder); a one-line error when that is outside it or one of render's own files."""
    where = os.path.relpath(os.path.abspath(given), workspace)
    rel = Path(where).as_posix()
    if rel == ".." or rel.startswith("../"):
        raise UsageError(
            f"--bake {given}: is outside the workspace {workspace}; the bake file is written "
            "in it (e.g. --bake affected.hcl, beside docker-bake.hcl)"
        )
    if rel in BAKE_FILES.values() or rel == OUTPUT_DIR or rel.startswith(f"{OUTPUT_DIR}/"):
        raise UsageError(
            f"--bake {given}: is where `bakegen render` writes; name a file of its own "
            "(e.g. affected.hcl)"
        )
    if rel == ".":
        raise UsageError(f"--bake {given}: is the workspace folder; name a file in it")
    return rel


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    since: str,
    as_json: bool = False,
    bake: Path | None = None,
) -> int:
    """The affected targets, one a line (or JSON with reasons); `bake` also writes them as a
    bake file's group."""
    rel = bake_path(ws, bake) if bake is not None else None
    found = affected(ws, since, manifest)
    for warning in found.warnings:
        io.err.print(f"warning: {warning}")
    if found.note:
        io.err.print(f"warning: {found.note}")
    if rel is not None:
        write_owned(ws, rel, bake_file(list(found.targets)))
    if as_json:
        io.write(json.dumps(found.targets, indent=2) + "\n")
    else:
        for target in found.targets:
            io.out.print(target)
    return 0
