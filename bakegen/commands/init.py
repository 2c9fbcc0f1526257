"""`bakegen init [DIR]`: a starter workspace (a commented manifest, templates for one Debian
release with runtime and devel images, a README) that renders and builds at once. It never
overwrites anything: when one of its files exists, or a file stands where one of its folders
goes, nothing is written; it never writes through a symlink inside the new workspace; a failure
midway leaves nothing behind, the folders it made included (the write stage, `write.create_new`)."""

from __future__ import annotations

import contextlib
import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from bakegen.errors import UsageError, WriteFailed, one_line
from bakegen.output import Streams
from bakegen.write import create_new


def run(io: Streams, *, directory: Path) -> int:
    for rel in write_starter(directory):
        io.err.print(one_line(f"created {directory / rel}"))
    io.err.print(one_line(f"next: bakegen -C {directory} render && docker buildx bake --print"))
    return 0


def starter_files() -> dict[str, str]:
    """The starter workspace's files by path, from the package's resources."""
    root = resources.files("bakegen").joinpath("resources", "init")
    files: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            path = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, path + "/")
            else:
                files[path] = child.read_text(encoding="utf-8")

    walk(root, "")
    return files


def write_starter(directory: Path) -> list[str]:
    """Write the starter workspace into `directory` (made when missing); return the paths
    written."""
    files = starter_files()
    made = _make_folder(directory)
    try:
        create_new(directory, files, directory, "run bakegen init again")
    except BaseException:
        _remove(made)
        raise
    return sorted(files)


def _make_folder(directory: Path) -> list[Path]:
    """Make `directory` and the folders missing above it; the folders made, outermost first
    (each noted before it is made, so that a failure or a signal can remove it)."""
    missing: list[Path] = []
    current = directory
    while not current.is_dir():
        if os.path.lexists(current):
            raise UsageError(
                f"{current}: is not a folder; bakegen init makes a workspace in a new or empty folder"
            )
        missing.append(current)
        current = current.parent
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            made.append(folder)
            folder.mkdir()
    except BaseException as exc:
        _remove(made)
        if isinstance(exc, OSError):
            said = exc.strerror or exc
            raise WriteFailed(f"{made[-1]}: cannot make the folder: {said}") from None
        raise
    return made


def _remove(folders: list[Path]) -> None:
    """Remove the folders init made, innermost first, where they are empty."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()
