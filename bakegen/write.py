"""Write stage: write only what changed, all or nothing, and remove only what bakegen made.

- every new file is staged beside its destination first; a failure while staging leaves the tree
  as it was;
- replaced and removed files are kept as backups until every rename is done, and restored if one
  fails;
- a stale file is removed only when it carries bakegen's marker; anything else found in the output
  folder is reported and left alone;
- no write goes through a symlink; two renders of one workspace take turns (a lock on its folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bakegen.bakefile import MARKER as BAKE_MARKER
from bakegen.dockerfiles import MARKER as DOCKERFILE_MARKER
from bakegen.emit import BAKE_FILES
from bakegen.errors import UsageError

MARKERS = (BAKE_MARKER.encode(), DOCKERFILE_MARKER.encode())
SNIFF_BYTES = 4096
TMP_SUFFIX = ".bakegen-tmp"
BAK_SUFFIX = ".bakegen-bak"

# Fault injection for tests: called with a step name before each file operation.
Hook = Callable[[str, str], None]


def _no_hook(step: str, path: str) -> None:
    """The default hook does nothing."""


@dataclass
class Changes:
    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return bool(self.create or self.update or self.delete)

    def lines(self) -> list[str]:
        out = [f"create {p}" for p in self.create]
        out += [f"update {p}" for p in self.update]
        out += [f"delete {p}" for p in self.delete]
        return sorted(out, key=lambda line: line.split(" ", 1)[1])


def is_generated(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return any(marker in head for marker in MARKERS)


def _check_inside(workspace: Path, rel: str) -> Path:
    """The destination of `rel`, refusing any symlink on the way or a path outside."""
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts:
        raise UsageError(f"{rel}: refusing to write outside the workspace")
    current = workspace
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise UsageError(
                f"{current.relative_to(workspace)}: is a symlink; bakegen does not write through "
                "symlinks (remove it and render again)"
            )
    return current


def plan_changes(workspace: Path, outputs: dict[str, str], output_dir: str) -> Changes:
    changes = Changes()
    for rel in sorted(outputs):
        dest = _check_inside(workspace, rel)
        if not dest.exists():
            changes.create.append(rel)
        elif not dest.is_file() or dest.read_bytes() != outputs[rel].encode():
            changes.update.append(rel)
        else:
            changes.unchanged.append(rel)
    root = workspace / output_dir
    existing: list[Path] = []
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            existing.extend(Path(dirpath) / name for name in sorted(filenames))
    existing.extend(workspace / name for name in BAKE_FILES.values())
    for path in existing:
        rel = path.relative_to(workspace).as_posix()
        if rel in outputs or not path.exists() or path.is_symlink():
            continue
        if path.name.endswith((TMP_SUFFIX, BAK_SUFFIX)) or is_generated(path):
            changes.delete.append(rel)
        elif path.parent != workspace:
            changes.foreign.append(rel)
    return changes


@contextlib.contextmanager
def workspace_lock(workspace: Path) -> Iterator[None]:
    """Hold an exclusive lock on the workspace folder while rendering into it."""
    fd = os.open(workspace, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def apply(
    workspace: Path, outputs: dict[str, str], changes: Changes, hook: Hook = _no_hook
) -> None:
    """Make the tree match `changes`, all or nothing."""
    staged: list[tuple[Path, Path]] = []
    try:
        for rel in changes.create + changes.update:
            dest = workspace / rel
            tmp = dest.with_name(dest.name + TMP_SUFFIX)
            hook("stage", rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as handle:
                handle.write(outputs[rel].encode())
                handle.flush()
                os.fsync(handle.fileno())
            staged.append((tmp, dest))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        _prune_empty(workspace, [d for _, d in staged])
        raise
    _commit(workspace, staged, [workspace / rel for rel in changes.delete], hook)


def _commit(
    workspace: Path, staged: list[tuple[Path, Path]], removals: list[Path], hook: Hook
) -> None:
    backups: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for tmp, dest in staged:
            rel = dest.relative_to(workspace).as_posix()
            hook("commit", rel)
            if dest.exists():
                bak = dest.with_name(dest.name + BAK_SUFFIX)
                os.replace(dest, bak)
                backups.append((bak, dest))
            else:
                created.append(dest)
            os.replace(tmp, dest)
        for path in removals:
            hook("delete", path.relative_to(workspace).as_posix())
            if path.name.endswith((TMP_SUFFIX, BAK_SUFFIX)):
                path.unlink()
                continue
            bak = path.with_name(path.name + BAK_SUFFIX)
            os.replace(path, bak)
            backups.append((bak, path))
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        for bak, dest in reversed(backups):
            os.replace(bak, dest)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        _prune_empty(workspace, created)
        raise
    for bak, _ in backups:
        bak.unlink(missing_ok=True)
    _prune_empty(workspace, removals)


def _prune_empty(workspace: Path, paths: list[Path]) -> None:
    """Remove folders left empty by removed files, up to the workspace."""
    for path in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        current = path
        while current != workspace and workspace in current.parents:
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent
