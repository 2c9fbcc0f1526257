"""Load stage: a manifest file or folder into one document, files merged in name order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bakegen.errors import KeyPath, Location, ManifestError, Problem
from bakegen.layout import manifest_files
from bakegen.load.compose import load_file
from bakegen.load.sourcemap import Loaded
from bakegen.sources import Sources


def load(path: Path, workspace: Path, sources: Sources | None = None) -> Loaded:
    """Load a manifest file or directory, read through `sources` (a reader of its own when
    none is given); files merge in name order, conflicts are errors."""
    sources = sources or Sources()

    def refuse(message: str) -> ManifestError:
        return ManifestError([Problem(None, (), message)])

    try:
        found = sources.kind(path) is not None
        files = manifest_files(path, sources) if found else []
    except OSError as exc:  # a name too long, a folder that cannot be listed
        raise refuse(f"{path}: cannot use as the manifest: {exc.strerror or exc}") from None
    if not found and sources.is_link(path):
        raise refuse(f"{path}: a symlink that leads nowhere (a loop, or a missing target)")
    if not found:
        raise refuse(f"manifest not found: {path} (give --manifest FILE or DIR)")
    if not files:
        raise ManifestError(
            [
                Problem(
                    Location(_display(path, workspace), 1, 1), (), "no *.yml or *.yaml files here"
                )
            ]
        )
    merged = Loaded(data={})
    problems: list[Problem] = []
    for file in files:
        display = _display(file, workspace)
        try:
            part = load_file(file, display, sources)
        except ManifestError as exc:
            problems.extend(exc.problems)
            continue
        _merge_into(merged, part, (), merged.data, part.data, problems)
        merged.files.append(display)
        merged.texts.update(part.texts)
    if problems:
        raise ManifestError(problems)
    return merged


def _merge_into(
    target: Loaded,
    part: Loaded,
    path: KeyPath,
    into: dict[str, Any],
    data: dict[str, Any],
    problems: list[Problem],
) -> None:
    for key, value in data.items():
        sub = (*path, key)
        if key not in into:
            into[key] = value
            for p, loc in part.sources.items():
                if p[: len(sub)] == sub:
                    target.sources[p] = loc
        elif isinstance(into[key], dict) and isinstance(value, dict):
            _merge_into(target, part, sub, into[key], value, problems)
        else:
            problems.append(
                Problem(
                    part.sources.get(sub),
                    sub,
                    f"defined twice: also at {target.sources.get(sub)}; keep one definition",
                )
            )
    target.sources.setdefault(path, part.sources.get(path, Location(part.files[0], 1, 1)))


def _display(path: Path, workspace: Path) -> str:
    try:
        return str(path.resolve().relative_to(workspace.resolve()))
    except ValueError:
        return str(path)
