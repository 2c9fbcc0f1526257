"""bakegen's cache folder (`$BAKEGEN_CACHE`, else `$XDG_CACHE_HOME/bakegen`, else
`~/.cache/bakegen`; never in the workspace), and how an entry is written to it and read back.

The cache is never trusted more than the workspace:

- A folder of it is used only when it is this user's own and nobody else can write to it
  (bakegen makes its folders 0700; a folder of another user, or one others may write to, a
  shared `$BAKEGEN_CACHE` say, is not used at all). No usable folder (no home folder, a
  read-only disk, a refused folder) only costs time: every render compiles.
- Every entry carries a tag: a keyed BLAKE2 digest of its name and bytes, under a key made of
  the random bytes of the folder's `key` file *and that file's identity on this disk* (device,
  inode, change time; none of them can be copied). An entry is read back only when its tag is
  right, so an entry swapped, cut short, moved under another name or brought in with a copied or
  restored cache folder (a CI cache, a backup) is no entry: the render compiles. Only what
  bakegen itself wrote in this folder, under that name, is ever unpickled or trusted.
- An entry is read without blocking and without following a symlink, and only when it is a
  regular file of this user's of a bounded size: a FIFO, a device or a huge file is no entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import shutil
import stat
from pathlib import Path

ENTRY_LIMIT = 64 * 1024 * 1024  # the most bytes an entry may hold
KEY_FILE = "key"
_KEY_BYTES = 32
_TAG_BYTES = 32
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def root() -> Path | None:
    """Where the cache folder is meant to be; None when there is no such place (no
    `$BAKEGEN_CACHE`, no absolute `$XDG_CACHE_HOME` and no home folder: `$HOME` empty or
    relative, or unset for a user the user database does not know)."""
    given = os.environ.get("BAKEGEN_CACHE")
    if given:
        return Path(os.path.abspath(given))
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg, "bakegen")
    home = os.environ.get("HOME")
    if home is None:
        home = os.path.expanduser("~")  # the user database's word; '~' when it has none
    return Path(home, ".cache", "bakegen") if os.path.isabs(home) else None


def _trusted(path: Path, *, top: bool) -> bool:
    """Make the folder `path` (0700) if it is missing; whether it may be used: a folder (below
    the top, not a symlink either) of this user's that nobody else can write to. A folder of
    this user's that others may read is made 0700."""
    look = os.stat if top else os.lstat
    try:
        info = look(path)
    except FileNotFoundError:
        try:
            if top:
                os.makedirs(path.parent, exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return False
        try:
            info = look(path)
        except OSError:
            return False
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return False
    if stat.S_IMODE(info.st_mode) != 0o700:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
    return True


def folder(*parts: str) -> Path | None:
    """The cache folder `parts` below the top one, made if missing; None when it cannot be made
    or is not to be trusted (see `_trusted`), that one or any above it up to the top."""
    path = root()
    if path is None or not _trusted(path, top=True):
        return None
    for part in parts:
        path = path / part
        if not _trusted(path, top=False):
            return None
    return path


def _open_own(path: Path | str) -> tuple[int, os.stat_result] | None:
    """A descriptor of the regular file `path` if it is this user's (never blocking, never
    through a symlink), and its status; None otherwise."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        os.close(fd)
        return None
    return fd, info


def _read_key(path: Path) -> bytes | None:
    opened = _open_own(path)
    if opened is None:
        return None
    fd, info = opened
    try:
        data = os.read(fd, _KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) != _KEY_BYTES or info.st_mode & 0o077:
        return None
    identity = f"{info.st_dev}:{info.st_ino}:{info.st_ctime_ns}".encode()
    return hashlib.blake2b(data + identity, digest_size=_KEY_BYTES).digest()


def _make_key(path: Path) -> None:
    """A new key file (0600) in place of a missing one, or of a file of this user's that is no
    key (cut short, readable by others); nothing when another process makes one at the same
    time (no key this time) or something else is there."""
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return
        os.unlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError:
        return
    try:
        os.write(fd, os.urandom(_KEY_BYTES))
    except OSError:
        pass
    finally:
        os.close(fd)


def secret() -> bytes | None:
    """The key entries are tagged with (made on first use), or None when the cache folder
    cannot be used or holds no usable key file."""
    top = folder()
    if top is None:
        return None
    key = _read_key(top / KEY_FILE)
    if key is None:
        with contextlib.suppress(OSError):
            _make_key(top / KEY_FILE)
        key = _read_key(top / KEY_FILE)
    return key


def _tag(key: bytes, path: Path, data: bytes) -> bytes:
    """The tag of `data` as the entry `path` (named by its folder and file name)."""
    h = hashlib.blake2b(key=key, digest_size=_TAG_BYTES)
    h.update(f"{path.parent.name}/{path.name}".encode() + b"\0")
    h.update(data)
    return h.digest()


def keep(path: Path, data: bytes) -> bool:
    """Write the entry `path` (in a folder `folder` gave), tagged, all or nothing (staged beside
    it under a name of its own, then renamed); whether it was written. A cache that cannot be
    written is no error: it only costs time."""
    key = secret()
    if key is None or len(data) > ENTRY_LIMIT:
        return False
    staged = f"{path}.{os.urandom(6).hex()}.tmp"
    try:
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_tag(key, path, data) + data)
        os.replace(staged, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(staged)
        return False
    return True


def read(path: Path) -> bytes | None:
    """The bytes of the entry `path` if bakegen wrote them there (its tag is right); None for
    anything else: no entry, another user's, not a regular file, too large, or a wrong tag."""
    key = secret()
    opened = None if key is None else _open_own(path)
    if key is None or opened is None:
        return None
    fd, info = opened
    try:
        if info.st_size > ENTRY_LIMIT + _TAG_BYTES:
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            raw = handle.read(ENTRY_LIMIT + _TAG_BYTES + 1)
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    tag, data = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    return data if hmac.compare_digest(tag, _tag(key, path, data)) else None


def prune(where: Path, keep_newest: int, spare: str | None = None) -> None:
    """Remove all but the `keep_newest` newest entries of the folder `where` (by modification
    time; `spare`, a name, is never removed); what cannot be looked at or removed is left."""
    try:
        names = os.listdir(where)
    except OSError:
        return
    if len(names) <= keep_newest:
        return
    dated = []
    for name in names:
        with contextlib.suppress(OSError):
            dated.append((os.lstat(where / name).st_mtime_ns, name))
    dated.sort(reverse=True)
    for _, name in dated[keep_newest:]:
        if name == spare:
            continue
        path = where / name
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
