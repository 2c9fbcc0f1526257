"""What bakegen keeps in its cache folder (`$BAKEGEN_CACHE`, else `~/.cache/bakegen`; never in
the workspace), all of it bounded:

- `state/`: per workspace (and its newest STATES_KEPT), the state of its last render: the log of
  the render's `Sources` (every file it read, by the digest of the bytes handed out, every file
  looked for and not found, the manifest folder's listing), the key (bakegen's code, the Python
  and the installed libraries, the options) and the digest of every file it wrote. The next
  render with the same key first compares all of that with the disk: when every input and every
  output is as recorded, and the output folder holds nothing else, it replays the messages of
  the recorded render instead of rendering. Anything else, a missing or unreadable state
  included, renders in full: the state can make a render faster, never different.
- `templates/`: templates compiled by Jinja, one folder per bakegen (the newest BAKEGENS_KEPT),
  the newest TEMPLATES_KEPT in each (see `bakegen.emit.jinja.CompiledTemplates`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bakegen import __version__
from bakegen.layout import BAK_SUFFIX, BAKE_FILES, OUTPUT_DIR, TMP_SUFFIX
from bakegen.sources import OTHER, observe

STATE_VERSION = 2
# The newest entries kept of each kind (by modification time); older ones are removed.
STATES_KEPT = 64  # render states, one per workspace and options
TEMPLATES_KEPT = 512  # compiled templates of this bakegen, one per template file
BAKEGENS_KEPT = 2  # folders of compiled templates, one per bakegen (code and libraries)
_PACKAGE = Path(__file__).resolve().parent
_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


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


@functools.cache
def libraries() -> dict[str, str]:
    """Every distribution installed where this Python imports from, by normalized name, and
    its version: the name and version its `*.dist-info` folder carries, which is what
    `importlib.metadata` reports (tests/unit/test_fingerprint.py holds them to it), read from the
    folders' listings because importing `importlib.metadata` and walking bakegen's
    requirements costs about 30 ms, a fifth of an unchanged render. Every library bakegen
    imports is among them (PyYAML and LibYAML's binding, Jinja2, MarkupSafe, jsonschema and
    its own, typer, click, rich, ...); one installed beside them changes the key too, which
    costs one render."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            match = _DIST_INFO.match(name)
            if match:
                normalized = re.sub(r"[-_.]+", "-", match["name"]).lower()
                found.setdefault(normalized, match["version"])
    return found


@functools.cache
def code_digest() -> str:
    """bakegen's own code and resources, the Python that runs it and the libraries it imports:
    a changed bakegen, another Python, or an upgraded library renders again."""
    python = f"{sys.implementation.name} {sys.version} {sys.implementation.cache_tag}"
    h = hashlib.sha256(f"{__version__}\0{python}\0".encode())
    h.update(json.dumps(sorted(libraries().items())).encode())
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class State:
    """What a render read (its `Sources` log), wrote and said."""

    key: str
    reads: dict[str, str | None]  # the Sources log: path -> what was seen there
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


def prune(folder: Path, keep: int, spare: str | None = None) -> None:
    """Remove all but the `keep` newest entries of `folder` (by modification time; `spare`, a
    name, is never removed); what cannot be looked at or removed is left."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    if len(names) <= keep:
        return
    dated = []
    for name in names:
        with contextlib.suppress(OSError):
            dated.append((os.lstat(folder / name).st_mtime_ns, name))
    dated.sort(reverse=True)
    for _, name in dated[keep:]:
        if name == spare:
            continue
        path = folder / name
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def templates_folder() -> Path | None:
    """The folder of this bakegen's compiled templates, made if missing and pruned (older
    bakegens' folders beyond the newest few, this one's oldest templates beyond TEMPLATES_KEPT);
    None when it cannot be made (templates are then compiled every time)."""
    parent = cache_folder() / "templates"
    folder = parent / code_digest()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # the newest bakegen is the one in use
    except OSError:
        return None
    prune(parent, BAKEGENS_KEPT, spare=folder.name)
    prune(folder, TEMPLATES_KEPT)
    return folder


def state_file(workspace: Path) -> Path:
    """Where the state of a workspace's renders is kept, in the cache folder."""
    return cache_folder() / "state" / f"{_digest(str(workspace).encode())[:32]}.json"


def keep(path: Path, text: str) -> bool:
    """Write a cache entry all or nothing (staged beside it, then renamed); whether it was
    written. A cache that cannot be written is no error: it only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(handle.name)
        return False
    return True


def save(workspace: Path, state: State) -> None:
    """Write the state (all or nothing), and prune the states beyond the newest STATES_KEPT; a
    cache that cannot be written is no error."""
    path = state_file(workspace)
    if keep(path, json.dumps(asdict(state))):
        prune(path.parent, STATES_KEPT, spare=path.name)


def forget(workspace: Path) -> None:
    with contextlib.suppress(OSError):
        state_file(workspace).unlink()


def outputs_of(outputs: Mapping[str, str]) -> dict[str, str]:
    return {rel: _digest(text.encode()) for rel, text in outputs.items()}


def unchanged(workspace: Path, expected_key: str) -> State | None:
    """The recorded state when the workspace is exactly as that render left it, else None."""
    try:
        data = json.loads(state_file(workspace).read_text(encoding="utf-8"))
        state = State(**data)
    except (OSError, ValueError, TypeError):
        return None
    if state.key != expected_key or not isinstance(state.reads, dict):
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
