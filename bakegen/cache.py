"""What bakegen keeps in its cache folder (`bakegen.cache_folder`), all of it bounded:

- `state/`: per workspace (and its newest STATES_KEPT), the state of its last render: the log of
  the render's `Sources` (every file it read, by the digest of the bytes handed out, every file
  looked for and not found, the manifest folder's listing), the key (bakegen's code, the Python
  and the libraries, down to their files: `bakegen.identity`; the options) and the digest of
  every file it wrote. The next render with the same key first compares all of that with the
  disk: when every input and every output is as recorded, and the output folder holds nothing
  else, it replays the messages of the recorded render instead of rendering. Anything else (a
  missing state, one bakegen did not write there, one cut short or of the wrong shape) renders
  in full: the state can make a render faster, never different.
- `templates/`: templates compiled by Jinja, one folder per bakegen (the newest BAKEGENS_KEPT),
  the newest TEMPLATES_KEPT in each (see `bakegen.emit.jinja.CompiledTemplates`).
- `key`: what every entry is tagged with (see `bakegen.cache_folder`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from bakegen import cache_folder, identity
from bakegen.layout import BAK_SUFFIX, BAKE_FILES, OUTPUT_DIR, TMP_SUFFIX
from bakegen.sources import OTHER, observe

STATE_VERSION = 3
# The newest entries kept of each kind (by modification time); older ones are removed.
STATES_KEPT = 64  # render states, one per workspace and options
TEMPLATES_KEPT = 512  # compiled templates of this bakegen, one per template file
BAKEGENS_KEPT = 2  # folders of compiled templates, one per bakegen (code and libraries)


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
        return OTHER
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return OTHER
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return _digest(handle.read())
    except OSError:
        return OTHER
    finally:
        if fd >= 0:
            os.close(fd)


@dataclass
class State:
    """What a render read (its `Sources` log), wrote and said."""

    key: str
    reads: dict[str, str | None]  # the Sources log: path -> what was seen there
    outputs: dict[str, str]  # workspace-relative path -> digest
    warnings: list[str] = field(default_factory=list)
    lock_drift: list[str] = field(default_factory=list)
    summary: str = ""


def _is_text_map(value: object, *, values_may_be_none: bool = False) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and (isinstance(v, str) or (v is None and values_may_be_none))
        for k, v in value.items()
    )


def _is_output_path(rel: str) -> bool:
    """A relative path inside the workspace, as a render names what it writes."""
    return rel == posixpath.normpath(rel) and rel != ".." and not rel.startswith(("/", "../"))


_SHAPE = {
    "key": lambda v: isinstance(v, str),
    "reads": lambda v: _is_text_map(v, values_may_be_none=True),
    "outputs": lambda v: _is_text_map(v) and all(_is_output_path(r) for r in v),
    "warnings": lambda v: isinstance(v, list) and all(isinstance(w, str) for w in v),
    "lock_drift": lambda v: isinstance(v, list) and all(isinstance(w, str) for w in v),
    "summary": lambda v: isinstance(v, str),
}


def state_of(data: object) -> State | None:
    """The state `data` (parsed JSON) holds, or None unless it has exactly a state's fields,
    each of its type."""
    if not isinstance(data, dict) or set(data) != {f.name for f in fields(State)}:
        return None
    if not all(_SHAPE[name](value) for name, value in data.items()):
        return None
    return State(**data)


def key(workspace: Path, manifest: Path | None, fmt: str, max_targets: int | None) -> str:
    """The options and code a recorded render must share with this one."""
    given = {
        "state": STATE_VERSION,
        "workspace": str(workspace),
        "manifest": str(manifest) if manifest is not None else None,
        "format": fmt,
        "max_targets": max_targets,
        "code": identity.code_digest(),
    }
    return _digest(json.dumps(given, sort_keys=True).encode())


def templates_folder() -> Path | None:
    """The folder of this bakegen's compiled templates, made if missing and pruned (older
    bakegens' folders beyond the newest few, this one's oldest templates beyond TEMPLATES_KEPT);
    None when the cache folder cannot be used (templates are then compiled every time)."""
    parent = cache_folder.folder("templates")
    mine = identity.code_digest()[:16]
    folder = cache_folder.folder("templates", mine)
    if parent is None or folder is None:
        return None
    try:
        os.utime(folder)  # the newest bakegen is the one in use
    except OSError:
        return None
    cache_folder.prune(parent, BAKEGENS_KEPT, spare=mine)
    cache_folder.prune(folder, TEMPLATES_KEPT)
    return folder


def _state_name(workspace: Path) -> str:
    return f"{_digest(str(workspace).encode())[:32]}.json"


def state_file(workspace: Path) -> Path | None:
    """Where the state of a workspace's renders is kept, in the cache folder (made if missing);
    None when the cache folder cannot be used."""
    folder = cache_folder.folder("state")
    return None if folder is None else folder / _state_name(workspace)


def save(workspace: Path, state: State) -> None:
    """Write the state (all or nothing), and prune the states beyond the newest STATES_KEPT; a
    cache that cannot be written is no error."""
    path = state_file(workspace)
    if path is not None and cache_folder.keep(path, json.dumps(asdict(state)).encode()):
        cache_folder.prune(path.parent, STATES_KEPT, spare=path.name)


def forget(workspace: Path) -> None:
    path = state_file(workspace)
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def outputs_of(outputs: Mapping[str, str]) -> dict[str, str]:
    return {rel: _digest(text.encode()) for rel, text in outputs.items()}


def recorded(workspace: Path) -> State | None:
    """The state the last render of `workspace` recorded, if bakegen wrote it and it has a
    state's shape; None for anything else."""
    path = state_file(workspace)
    raw = None if path is None else cache_folder.read(path)
    if raw is None:
        return None
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return state_of(data)


def unchanged(workspace: Path, expected_key: str) -> State | None:
    """The recorded state when the workspace is exactly as that render left it, else None."""
    state = recorded(workspace)
    if state is None or state.key != expected_key:
        return None
    if any(observe(p, seen) != seen for p, seen in state.reads.items()):
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
