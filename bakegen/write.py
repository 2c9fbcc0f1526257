"""Write stage: write only what changed, all or nothing, and remove only what bakegen made.

- every new file is staged beside its destination first; a failure while staging leaves the tree
  as it was (folders made for staging are removed again); the staged files are flushed to disk
  (one `os.sync()` for the batch) before the first of them is renamed into place, so a crash
  never leaves a destination pointing at text that was not written;
- replaced and removed files are kept as backups until every rename is done, and restored if one
  fails; temporary and backup names are unique to the run, so they never meet leftovers of an
  earlier run that was killed;
- a stale file is removed only when it is bakegen's (`owned`: the marker as bakegen writes it,
  in the file's leading comment lines, or as the JSON bake file's first variable; the word alone
  in a person's text is not enough); anything else found in the output folder is reported and
  left alone, and a file without the marker where bakegen would write is an error, never
  overwritten;
- leftovers of a killed run (`<name>.<8 hex>.bakegen-tmp|bak` holding bakegen's text, or empty)
  are drift, and removed by the next render; other files with such names are a person's;
- no write goes through a symlink, or into a path where a file stands for a folder;
- a failure (a full disk, a read-only folder) rolls everything back and says which file, once;
- two renders of one workspace take turns (a lock on its folder), and the second says it waits.
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

from bakegen.errors import OutputConflict, UsageError, WriteFailed
from bakegen.layout import BAK_SUFFIX, BAKE_FILES, TMP_SUFFIX
from bakegen.owned import LEFTOVER, is_generated, is_leftover

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


class _Tree:
    """What is on disk on the way to the outputs, each path looked at once (`lstat`, no
    symlink followed); nothing is written while it is in use."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._top = os.fspath(workspace)
        self._seen: dict[str, os.stat_result | None] = {}

    def lstat(self, rel: str) -> os.stat_result | None:
        if rel not in self._seen:
            try:
                self._seen[rel] = os.lstat(f"{self._top}/{rel}")
            except (FileNotFoundError, NotADirectoryError):
                self._seen[rel] = None
        return self._seen[rel]

    def check_inside(
        self, rel: str, shown: Path = Path(), again: str = "render again"
    ) -> list[str]:
        """The paths on the way to `rel`, itself last, refusing a path outside the workspace
        or any symlink on the way (named under `shown`, the workspace as the user named it)."""
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts:
            raise UsageError(f"{shown / rel}: refusing to write outside the workspace")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for prefix in prefixes:
            info = self.lstat(prefix)
            if info is not None and stat.S_ISLNK(info.st_mode):
                raise UsageError(
                    f"{shown / prefix}: is a symlink; bakegen does not write through symlinks "
                    f"(remove it and {again})"
                )
        return prefixes

    def in_the_way(self, folders: list[str]) -> str | None:
        """The first of `folders` that is something else than a folder, if any."""
        for folder in folders:
            info = self.lstat(folder)
            if info is not None and not stat.S_ISDIR(info.st_mode):
                return folder
        return None


def plan_changes(workspace: Path, outputs: dict[str, str], output_dir: str | None) -> Changes:
    """What a render would do to the workspace: each output created, updated or unchanged,
    and every file bakegen made that no output names deleted (none without `output_dir`).
    Refuses (OutputConflict) when anything that is not bakegen's stands where an output goes."""
    changes = Changes()
    conflicts: list[str] = []
    in_the_way: set[str] = set()
    tree = _Tree(workspace)
    for rel in sorted(outputs):
        *folders, _ = tree.check_inside(rel)
        blocker = tree.in_the_way(folders)
        if blocker:
            if blocker not in in_the_way:
                in_the_way.add(blocker)
                conflicts.append(
                    f"{blocker}: is a file where bakegen needs a folder (for {rel}); move it away"
                )
            continue
        conflict = _sort_output(changes, workspace, rel, tree.lstat(rel), outputs[rel])
        if conflict:
            conflicts.append(conflict)
    if conflicts:
        raise OutputConflict(conflicts)
    if output_dir is None:
        return changes
    for rel in _existing(workspace, output_dir):
        if rel not in outputs:
            _sort_existing(changes, workspace, rel)
    return changes


def create_new(workspace: Path, outputs: dict[str, str], shown: Path, again: str) -> None:
    """Create the files of `outputs` in the folder `workspace` (`shown` in messages), none of
    them there yet, all or nothing as `apply` writes. Refused before anything is written when
    one of them is there (a file, a folder, a symlink: OutputConflict), a file stands where a
    folder goes (OutputConflict), or the way to one goes through a symlink (UsageError; `again`
    says what to do after removing it)."""
    tree = _Tree(workspace)
    conflicts: dict[str, None] = {}
    for rel in sorted(outputs):
        *folders, _ = tree.check_inside(rel, shown, again)
        blocker = tree.in_the_way(folders)
        if blocker:
            conflicts[
                f"{shown / blocker}: is a file where bakegen needs a folder; move it away"
            ] = None
        elif tree.lstat(rel) is not None:
            conflicts[f"{shown / rel}: exists; bakegen writes only new files there"] = None
    if conflicts:
        raise OutputConflict(list(conflicts))
    apply(workspace, outputs, Changes(create=sorted(outputs)), shown=shown)


def _sort_output(
    changes: Changes, workspace: Path, rel: str, info: os.stat_result | None, text: str
) -> str | None:
    """Put the output `rel` in `changes` by what is there now; the conflict, if something
    bakegen must not replace is."""
    if info is None:
        changes.create.append(rel)
    elif stat.S_ISDIR(info.st_mode):
        return f"{rel}: is a folder where bakegen writes a file; move it away"
    elif not stat.S_ISREG(info.st_mode):
        return f"{rel}: is not a regular file, and bakegen writes one there; move it away"
    elif (workspace / rel).read_bytes() == text.encode():
        changes.unchanged.append(rel)
    elif not is_generated(workspace / rel):
        return (
            f"{rel}: not made by bakegen (no marker), and bakegen would overwrite it; "
            "move it away or delete it"
        )
    else:
        changes.update.append(rel)
    return None


def _existing(workspace: Path, output_dir: str) -> list[str]:
    """The files a render may have made: everything under the output folder, the bake files,
    and a killed run's staged or backed-up bake file beside them."""
    root = workspace / output_dir
    existing: list[str] = []
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            folder = Path(dirpath).relative_to(workspace).as_posix()
            existing.extend(f"{folder}/{name}" for name in sorted(filenames))
    existing.extend(BAKE_FILES.values())
    bake_names = tuple(BAKE_FILES.values())
    existing.extend(
        p.name
        for p in sorted(workspace.iterdir())
        if (m := LEFTOVER.match(p.name)) and m.group("name") in bake_names
    )
    return existing


def _sort_existing(changes: Changes, workspace: Path, rel: str) -> None:
    """A file no output names: deleted when bakegen made it, kept (and told) when not."""
    path = workspace / rel
    if not path.exists() or path.is_symlink():
        return
    if not stat.S_ISREG(path.lstat().st_mode):
        changes.foreign.append(rel)
    elif is_leftover(path) or (not LEFTOVER.match(path.name) and is_generated(path)):
        changes.delete.append(rel)
    elif path.parent != workspace or LEFTOVER.match(path.name):
        changes.foreign.append(rel)


@contextlib.contextmanager
def workspace_lock(workspace: Path, on_wait: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Hold an exclusive lock on the workspace folder while rendering into it; `on_wait` is
    called once when another render holds it."""
    fd = os.open(workspace, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_owned(workspace: Path, rel: str, text: str) -> Changes:
    """Write one file of bakegen's at `rel` in the workspace as a render writes its outputs:
    never through a symlink or over a file without the marker, staged and renamed, missing
    folders made (and removed again on a failure)."""
    outputs = {rel: text}
    with workspace_lock(workspace):
        changes = plan_changes(workspace, outputs, None)
        apply(workspace, outputs, changes)
    return changes


def replace_file(path: Path, text: str) -> None:
    """Write one file a command names (outside the output tree) in one rename: staged beside
    it and flushed first, so a failure or a kill leaves the old file whole (a symlink is
    followed, as opening it would). A failure is one line."""
    dest = Path(os.path.realpath(path))
    tmp = _side_name(dest, secrets.token_hex(4), TMP_SUFFIX)
    try:
        try:
            mode = stat.S_IMODE(dest.stat().st_mode)
        except FileNotFoundError:
            mode = None
        with tmp.open("xb") as handle:
            handle.write(text.encode())
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            tmp.chmod(mode)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(
            f"{path}: cannot write: {exc.strerror or exc}; nothing was changed"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _side_name(path: Path, token: str, suffix: str) -> Path:
    """A temporary or backup name beside `path`, unique to this run."""
    return path.with_name(f"{path.name}.{token}{suffix}")


def _make_parents(workspace: Path, path: Path, made: list[Path], there: set[Path]) -> None:
    """Create the missing folders above `path`, noting each in `made` before it is made (a
    signal between the two must not leave a folder the rollback does not know); `there` holds
    the folders this run found or made, looked at once each."""
    missing: list[Path] = []
    current = path.parent
    while current != workspace and current not in there and not current.exists():
        missing.append(current)
        current = current.parent
    there.add(current)
    for folder in reversed(missing):
        made.append(folder)
        folder.mkdir()
        there.add(folder)


def _remove_folders(folders: list[Path]) -> None:
    """Remove folders this run made, deepest first, where they are empty again."""
    for folder in sorted(set(folders), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def apply(
    workspace: Path,
    outputs: dict[str, str],
    changes: Changes,
    hook: Hook = _no_hook,
    shown: Path = Path(),
) -> None:
    """Make the tree match `changes`, all or nothing; a failure to write is one line (naming
    the file under `shown`, the workspace as the user named it)."""
    try:
        _apply(workspace, outputs, changes, hook)
    except OSError as exc:
        where = Path(exc.filename or workspace)
        if match := LEFTOVER.match(where.name):  # a staged file: name its destination
            where = where.with_name(match.group("name"))
        with contextlib.suppress(ValueError):
            where = shown / where.relative_to(workspace)
        raise WriteFailed(
            f"{where}: cannot write: {exc.strerror or exc}; nothing was changed"
        ) from None


@dataclass
class _Progress:
    """What a run has done so far, each step noted before it is taken, so that the rollback
    (on any exception, a signal included) undoes exactly that."""

    made: list[Path] = field(default_factory=list)
    staged: list[tuple[Path, Path]] = field(default_factory=list)
    backups: list[tuple[Path, Path]] = field(default_factory=list)
    created: list[Path] = field(default_factory=list)

    def roll_back(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)
        for bak, dest in reversed(self.backups):
            if bak.exists():
                os.replace(bak, dest)
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        _remove_folders(self.made)


def _apply(workspace: Path, outputs: dict[str, str], changes: Changes, hook: Hook) -> None:
    token = secrets.token_hex(4)
    done = _Progress()
    removals = [workspace / rel for rel in changes.delete]
    there: set[Path] = set()
    try:
        for rel in changes.create + changes.update:
            dest = workspace / rel
            tmp = _side_name(dest, token, TMP_SUFFIX)
            hook("stage", rel)
            _make_parents(workspace, dest, done.made, there)
            done.staged.append((tmp, dest))
            with tmp.open("xb") as handle:
                handle.write(outputs[rel].encode())
        if done.staged:
            # Every staged file on disk before the first rename: one flush for the batch.
            os.sync()
        for tmp, dest in done.staged:
            hook("commit", dest.relative_to(workspace).as_posix())
            if dest.exists():
                bak = _side_name(dest, token, BAK_SUFFIX)
                done.backups.append((bak, dest))
                os.replace(dest, bak)
            else:
                done.created.append(dest)
            os.replace(tmp, dest)
        for path in removals:
            hook("delete", path.relative_to(workspace).as_posix())
            bak = _side_name(path, token, BAK_SUFFIX)
            done.backups.append((bak, path))
            os.replace(path, bak)
    except BaseException:
        done.roll_back()
        raise
    # The new tree is complete: backups are only leftovers from here on (a later render
    # removes any that a signal leaves).
    for bak, _ in done.backups:
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
