"""Where `bakegen ci github --output` may write: nowhere bakegen reads or writes otherwise.

The workflow written over the bake file, into `generated/` (which the next render empties of
what it did not make), over the lock or into the manifest folder (read as one more manifest
file) breaks the workspace; so does one among the templates. Such a path is refused with one
line saying what the path is.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from bakegen.errors import UsageError
from bakegen.github.jobs import DEFAULT_OUTPUT
from bakegen.layout import BAKE_FILES, BAKE_TEMPLATE, OUTPUT_DIR, manifest_path
from bakegen.manifest.records import Manifest
from bakegen.pin.lock import lock_path


def _inside(path: Path, workspace: Path) -> str | None:
    """`path` relative to the workspace (POSIX, normalized), or None when it lies outside."""
    try:
        return PurePosixPath(os.path.normpath(path.relative_to(workspace).as_posix())).as_posix()
    except ValueError:
        return None


def roles(workspace: Path, manifest: Path | None, typed: Manifest) -> dict[str, str]:
    """Each path of the workspace that bakegen reads or writes -> what it is."""
    found = {
        OUTPUT_DIR: f"`bakegen render` owns {OUTPUT_DIR}/: the next render removes what it did not make",
        **{name: f"`bakegen render` writes {name}" for name in BAKE_FILES.values()},
        BAKE_TEMPLATE: f"{BAKE_TEMPLATE} is the bake template every render reads",
    }
    source = manifest_path(workspace, manifest)
    for path, what in (
        (
            source,
            "/ is the manifest folder, whose YAML files every command reads"
            if source.is_dir()
            else " is the manifest, which every command reads",
        ),
        (lock_path(source), " is the lock file, which `bakegen pin` writes and every render reads"),
    ):
        inside = _inside(path, workspace)
        if inside is not None and inside != ".":
            found.setdefault(inside, f"{inside}{what}")
    for release in typed.releases:
        folder = PurePosixPath(os.path.normpath(release.templates_dir or "."))
        for templates in (folder, folder.parent):  # includes are looked for in the parent too
            if templates.as_posix() != "." and not templates.is_absolute():
                found.setdefault(templates.as_posix(), f"bakegen reads templates from {templates}/")
    return found


def check_output(workspace: Path, manifest: Path | None, typed: Manifest, output: str) -> None:
    """Refuse an `--output` that is, or lies inside, a path bakegen reads or writes (spelt
    otherwise, through a symlink or on a case-insensitive disk too)."""
    rel = PurePosixPath(os.path.normpath(PurePosixPath(output).as_posix()))
    if rel.is_absolute() or rel.parts[:1] == ("..",):
        return  # the writer refuses what lies outside the workspace
    taken = roles(workspace, manifest, typed)
    prefixes = [PurePosixPath(*rel.parts[: i + 1]).as_posix() for i in range(len(rel.parts))]
    for prefix in reversed(prefixes):  # the nearest first
        what = taken.get(prefix) or _same_file(workspace, prefix, taken)
        if what:
            raise UsageError(
                f"--output {output}: {what}; write the workflow elsewhere, e.g. {DEFAULT_OUTPUT}"
            )


def _same_file(workspace: Path, prefix: str, taken: dict[str, str]) -> str | None:
    """What the existing path `prefix` is, when it is one of `taken` under another name."""
    here = workspace / prefix
    if not here.exists():
        return None
    for rel, what in taken.items():
        try:
            if os.path.samefile(here, workspace / rel):
                return what
        except OSError:
            continue
    return None
