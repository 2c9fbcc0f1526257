"""`bakegen init [DIR]`: a starter workspace (a commented manifest, templates for one Debian
release with runtime and devel images, a README) that renders and builds at once. It never
overwrites anything: when one of its files exists, nothing is written."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from bakegen.errors import OutputConflict
from bakegen.output import Streams


def run(io: Streams, *, directory: Path) -> int:
    for rel in write_starter(directory):
        io.err.print(f"created {directory / rel}")
    io.err.print(f"next: bakegen -C {directory} render && docker buildx bake --print")
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
    """Write the starter workspace into `directory`; return the paths written."""
    files = starter_files()
    taken = [rel for rel in files if (directory / rel).exists() or (directory / rel).is_symlink()]
    if taken:
        raise OutputConflict(
            [
                f"{directory / rel}: exists; bakegen init writes into a new or empty folder"
                for rel in taken
            ]
        )
    written: list[Path] = []
    try:
        for rel, text in files.items():
            dest = directory / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("x", encoding="utf-8") as handle:
                written.append(dest)
                handle.write(text)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return sorted(files)
