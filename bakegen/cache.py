"""Knowing that nothing changed without rendering again.

A render records what it read (every manifest file, the manifest folder's listing, every template
file Jinja looked for, found or not, the bake template override and the lock file, found or not),
bakegen's own code, the options, and the digest of every file it wrote, in a state file in the
user's cache folder (`$BAKEGEN_CACHE`, else `~/.cache/bakegen`; never in the workspace). The next render with the same options first
compares all of that with the disk: when every input and every output is as recorded, and the
output folder holds nothing else, it replays the messages of the recorded render instead of
rendering. Anything else, a missing or unreadable state included, renders in full: the state can
make a render faster, never different.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bakegen import __version__
from bakegen.layout import BAK_SUFFIX, BAKE_FILES, OUTPUT_DIR, TMP_SUFFIX

STATE_VERSION = 1
_PACKAGE = Path(__file__).resolve().parent
_reads: ContextVar[dict[str, str | None] | None] = ContextVar("bakegen_reads", default=None)
_NOT_A_FILE = "not a regular file"


def note(path: Path, data: bytes | None) -> None:
    """Record that the render read `path` (`data`), or looked for it and found none (None)."""
    reads = _reads.get()
    if reads is not None:
        reads[str(path)] = None if data is None else _digest(data)


@contextlib.contextmanager
def recording() -> Iterator[dict[str, str | None]]:
    """Record the reads of the code run inside."""
    reads: dict[str, str | None] = {}
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path | str) -> str | None:
    """The digest of a regular file (not through a symlink); None when nothing is there. One
    open: a symlink is refused by it, a FIFO or device by what it opened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        return _NOT_A_FILE
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _NOT_A_FILE
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return _digest(handle.read())
    except OSError:
        return _NOT_A_FILE
    finally:
        if fd >= 0:
            os.close(fd)


@functools.cache
def code_digest() -> str:
    """bakegen's own code and resources, and the Python and libraries that render: a changed
    bakegen, or an upgraded Jinja2 or PyYAML, renders again."""
    h = hashlib.sha256(f"{__version__} {sys.version}".encode())
    for library in ("jinja2", "yaml"):
        spec = importlib.util.find_spec(library)
        origin = Path(spec.origin) if spec and spec.origin else None
        info = origin.stat() if origin else None
        h.update(f"{library} {origin} {info and info.st_mtime_ns} {info and info.st_size}".encode())
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class State:
    """What a render read, wrote and said."""

    key: str
    listing: list[str] | None
    reads: dict[str, str | None]
    outputs: dict[str, str]  # workspace-relative path -> digest
    warnings: list[str] = field(default_factory=list)
    lock_drift: list[str] = field(default_factory=list)
    summary: str = ""


def key(workspace: Path, manifest: Path | None, fmt: str, max_targets: int | None) -> str:
    """The options and code a recorded render must share with this one."""
    given = {
        "state": STATE_VERSION,
        "workspace": str(workspace),
        "manifest": str(manifest) if manifest is not None else None,
        "format": fmt,
        "max_targets": max_targets,
        "code": code_digest(),
    }
    return _digest(json.dumps(given, sort_keys=True).encode())


def cache_folder() -> Path:
    """bakegen's cache folder: $BAKEGEN_CACHE, else bakegen's folder in the user's cache."""
    cache = os.environ.get("BAKEGEN_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "bakegen"
    )
    return Path(cache)


def _memo(kind: str, text: str) -> Path:
    digest = _digest(f"{code_digest()}\0{text}".encode())
    return cache_folder() / kind / digest[:2] / digest[2:]


def recall(kind: str, text: str) -> bytes | None:
    """What this bakegen noted as the `kind` of `text` (see `remember`), or None."""
    try:
        return _memo(kind, text).read_bytes()
    except OSError:
        return None


def known(kind: str, text: str) -> bool:
    """Whether this bakegen found `text` to be `kind` before (see `remember`)."""
    return _memo(kind, text).is_file()


def remember(kind: str, text: str, value: bytes = b"") -> None:
    """Note in the cache folder that this bakegen found `value` to be the `kind` of `text` (an
    answer that depends on nothing but the text and bakegen), all or nothing; a cache that
    cannot be written is no error."""
    path = _memo(kind, text)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        staged.write_bytes(value)
        os.replace(staged, path)


def state_file(workspace: Path) -> Path:
    """Where the state of a workspace's renders is kept, in the cache folder."""
    return cache_folder() / "state" / f"{_digest(str(workspace).encode())[:32]}.json"


def listing(manifest_files: Sequence[Path], is_dir: bool) -> list[str] | None:
    """The manifest folder's files, as the loader chose them (None for a single file)."""
    return [str(p) for p in manifest_files] if is_dir else None


def save(workspace: Path, state: State) -> None:
    """Write the state (all or nothing); a cache that cannot be written is no error."""
    path = state_file(workspace)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            json.dump(asdict(state), handle)
        os.replace(handle.name, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(handle.name)


def forget(workspace: Path) -> None:
    with contextlib.suppress(OSError):
        state_file(workspace).unlink()


def outputs_of(outputs: Mapping[str, str]) -> dict[str, str]:
    return {rel: _digest(text.encode()) for rel, text in outputs.items()}


def unchanged(
    workspace: Path, expected_key: str, current_listing: list[str] | None
) -> State | None:
    """The recorded state when the workspace is exactly as that render left it, else None."""
    try:
        data = json.loads(state_file(workspace).read_text(encoding="utf-8"))
        state = State(**data)
    except (OSError, ValueError, TypeError):
        return None
    if state.key != expected_key or state.listing != current_listing:
        return None
    if any(file_digest(p) != d for p, d in state.reads.items()):
        return None
    top = os.fspath(workspace)
    if any(file_digest(f"{top}/{rel}") != d for rel, d in state.outputs.items()):
        return None
    return state if _nothing_else(workspace, state.outputs) else None


def _files_under(folder: str, rel: str) -> set[str] | None:
    """Every entry under `folder` that is not a folder (symlinks, to folders too, are entries),
    as paths relative to the workspace (`rel` is the folder's); an empty set when there is no
    such folder, None when it cannot be listed or is no folder."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return None
    except FileNotFoundError:
        return set()
    except OSError:
        return None
    found: set[str] = set()
    pending = [(folder, rel)]
    try:
        while pending:
            path, prefix = pending.pop()
            with os.scandir(path) as entries:
                for entry in entries:
                    name = f"{prefix}/{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, name))
                    else:
                        found.add(name)
    except OSError:
        return None
    return found


def _nothing_else(workspace: Path, outputs: Mapping[str, str]) -> bool:
    """No file a render would remove, warn about or refuse: the output folder holds only the
    recorded files, and the workspace root no other bake file and no leftover of a killed run."""
    expected = {rel for rel in outputs if rel.startswith(f"{OUTPUT_DIR}/")}
    if _files_under(os.path.join(workspace, OUTPUT_DIR), OUTPUT_DIR) != expected:
        return False
    others = [name for name in BAKE_FILES.values() if name not in outputs]
    if any(os.path.lexists(workspace / name) for name in others):
        return False
    bake_names = tuple(BAKE_FILES.values())
    return not any(
        p.name.startswith(bake_names) and p.name.endswith((TMP_SUFFIX, BAK_SUFFIX))
        for p in workspace.iterdir()
    )
