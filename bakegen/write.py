"""Write stage: write only what changed, all or nothing, and remove only what bakegen made.

- every new file is staged beside its destination first; a failure while staging leaves the tree
  as it was (folders made for staging are removed again);
- replaced and removed files are kept as backups until every rename is done, and restored if one
  fails; temporary and backup names are unique to the run, so they never meet leftovers of an
  earlier run that was killed;
- a stale file is removed only when it carries bakegen's marker; anything else found in the output
  folder is reported and left alone, and a file without the marker where bakegen would write is
  an error, never overwritten;
- no write goes through a symlink; two renders of one workspace take turns (a lock on its folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bakegen.errors import OutputConflict, UsageError
from bakegen.layout import BAK_SUFFIX, BAKE_FILES, MARKER, TMP_SUFFIX

MARKERS = (MARKER.encode(),)
# The marker follows the header of a Dockerfile, which may be long: look that far.
SNIFF_BYTES = 1024 * 1024

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
    """Whether `path` is a regular file carrying bakegen's marker (a FIFO is never opened)."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return False
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
    conflicts: list[str] = []
    for rel in sorted(outputs):
        dest = _check_inside(workspace, rel)
        if not dest.exists():
            changes.create.append(rel)
        elif dest.is_dir():
            conflicts.append(f"{rel}: is a folder where bakegen writes a file; move it away")
        elif not stat.S_ISREG(dest.lstat().st_mode):
            conflicts.append(
                f"{rel}: is not a regular file, and bakegen writes one there; move it away"
            )
        elif dest.read_bytes() == outputs[rel].encode():
            changes.unchanged.append(rel)
        elif not is_generated(dest):
            conflicts.append(
                f"{rel}: not made by bakegen (no marker), and bakegen would overwrite it; "
                "move it away or delete it"
            )
        else:
            changes.update.append(rel)
    if conflicts:
        raise OutputConflict(conflicts)
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
        if not stat.S_ISREG(path.lstat().st_mode):
            changes.foreign.append(rel)
        elif path.name.endswith((TMP_SUFFIX, BAK_SUFFIX)) or is_generated(path):
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


def _side_name(path: Path, token: str, suffix: str) -> Path:
    """A temporary or backup name beside `path`, unique to this run."""
    return path.with_name(f"{path.name}.{token}{suffix}")


def _make_parents(workspace: Path, path: Path, made: list[Path]) -> None:
    """Create the missing folders above `path`, noting each in `made` as soon as it exists."""
    missing: list[Path] = []
    current = path.parent
    while current != workspace and not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir()
        made.append(folder)


def _remove_folders(folders: list[Path]) -> None:
    """Remove folders this run made, deepest first, where they are empty again."""
    for folder in sorted(set(folders), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def apply(
    workspace: Path, outputs: dict[str, str], changes: Changes, hook: Hook = _no_hook
) -> None:
    """Make the tree match `changes`, all or nothing."""
    token = secrets.token_hex(4)
    staged: list[tuple[Path, Path]] = []
    made: list[Path] = []
    try:
        for rel in changes.create + changes.update:
            dest = workspace / rel
            tmp = _side_name(dest, token, TMP_SUFFIX)
            hook("stage", rel)
            _make_parents(workspace, dest, made)
            with tmp.open("xb") as handle:
                staged.append((tmp, dest))
                handle.write(outputs[rel].encode())
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        _remove_folders(made)
        raise
    _commit(workspace, token, staged, made, [workspace / rel for rel in changes.delete], hook)


def _commit(
    workspace: Path,
    token: str,
    staged: list[tuple[Path, Path]],
    made: list[Path],
    removals: list[Path],
    hook: Hook,
) -> None:
    backups: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for tmp, dest in staged:
            hook("commit", dest.relative_to(workspace).as_posix())
            if dest.exists():
                bak = _side_name(dest, token, BAK_SUFFIX)
                os.replace(dest, bak)
                backups.append((bak, dest))
            else:
                created.append(dest)
            os.replace(tmp, dest)
        for path in removals:
            hook("delete", path.relative_to(workspace).as_posix())
            bak = _side_name(path, token, BAK_SUFFIX)
            os.replace(path, bak)
            backups.append((bak, path))
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        for bak, dest in reversed(backups):
            os.replace(bak, dest)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        _remove_folders(made)
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
