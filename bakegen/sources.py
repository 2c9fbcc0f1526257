"""The one reader of a render's inputs, and its log.

Every file a render reads (the manifest's files and its folder's listing, the templates Jinja
looks for, found or not, the workspace's bake template, the lock file) is read through one
`Sources`. It hands out each file's bytes once (asked again, it gives the same bytes) and logs
what it saw, path by path: the digest of the bytes it handed out, or that nothing was there, or
what was there instead, or a folder's listing. That log is the state of the render
(`bakegen.cache`): a later render compares it with the disk through `Sources.observe`, the same
code that read it, so a reader cannot be left out of the state by forgetting to record a read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

BOM = "\ufeff"
# The log's words for what a path was, besides the digest of a file's bytes.
ABSENT = None
FOLDER = "folder"
OTHER = "not a regular file"
UNREADABLE = "unreadable"
A_FILE = "file"  # a regular file whose bytes were not asked for
DIGEST = "sha256:"
LISTING = "/"  # a log key ending in it is a folder's listing
# What looking at a path that is not there raises (pathlib's `exists` reads these as False).
_NOTHING_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def decode_utf8(raw: bytes) -> str | tuple[int, int]:
    """`raw` as text (a leading BOM dropped), or the 1-based line and column of its first bad
    byte (the column counts characters)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        return line, len(before) - (before.rfind("\n") + 1) + 1
    return text[1:] if text.startswith(BOM) else text


class NotAFile(OSError):
    """The path names something that is not a regular file: `kind` is FOLDER or OTHER."""

    def __init__(self, kind: str) -> None:
        super().__init__(0, "not a regular file")
        self.kind = kind


class TooLarge(OSError):
    """The file holds more bytes than the reader allows; `size` is None when it grew while
    being read."""

    def __init__(self, size: int | None) -> None:
        super().__init__(0, "file too large")
        self.size = size


def digest(data: bytes) -> str:
    return DIGEST + hashlib.sha256(data).hexdigest()


def _link(path: str) -> str:
    """A prefix naming the target when `path` itself is a symlink, else ''."""
    try:
        return f"symlink to {os.readlink(path)}: " if os.path.islink(path) else ""
    except OSError:
        return "symlink: "


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return FOLDER
    return A_FILE if stat.S_ISREG(mode) else OTHER


def _read(path: str, limit: int | None) -> bytes:
    """The bytes of a regular file, opened without blocking and read only if it still is one."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a FIFO since it was looked at
            raise NotAFile(OTHER)
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise TooLarge(None)
    return data


class Sources:
    """The files of one render, each read once, and the log of what was seen.

    `allowed`, when given, is asked about every path before it is touched; a path it refuses
    raises PermissionError (a test's way to prove that nothing else is read)."""

    def __init__(self, allowed: Callable[[str], bool] | None = None) -> None:
        self.log: dict[str, str | None] = {}
        self._bytes: dict[str, bytes] = {}
        self._allowed = allowed

    def _note(self, key: str, seen: str | None) -> None:
        if seen == A_FILE and (self.log.get(key) or "").startswith(DIGEST):
            return  # the digest already logged says more
        self.log[key] = seen

    def _check(self, key: str) -> None:
        if self._allowed is not None and not self._allowed(key):
            raise PermissionError(13, "not a source of this render", key)

    def _stat(self, key: str, absent_raises: bool) -> os.stat_result | None:
        """The status of `key` (through symlinks), logged; None when nothing is there (unless
        `absent_raises`); any other error is raised."""
        self._check(key)
        try:
            return os.stat(key)
        except OSError as exc:
            absent = exc.errno in _NOTHING_THERE
            self.log[key] = ABSENT if absent else UNREADABLE
            if absent_raises or not absent:
                raise
        return None

    def kind(self, path: Path | str) -> str | None:
        """What `path` is: A_FILE, FOLDER, OTHER, or None when nothing is there; never opens
        it. An error other than nothing being there is raised."""
        key = os.fspath(path)
        info = self._stat(key, absent_raises=False)
        if info is None:
            return None
        seen = _kind(info.st_mode)
        self._note(key, _link(key) + seen)
        return seen

    def is_link(self, path: Path | str) -> bool:
        """Whether `path` itself is a symlink (one that leads nowhere, say)."""
        key = os.fspath(path)
        self._check(key)
        return os.path.islink(key)

    def read(self, path: Path | str, limit: int | None = None) -> bytes:
        """The bytes of the regular file `path` (at most `limit`). Raises FileNotFoundError
        (nothing there), NotAFile, TooLarge, or the OSError that stopped the read."""
        key = os.fspath(path)
        if key in self._bytes:
            return self._bytes[key]
        info = self._stat(key, absent_raises=True)
        assert info is not None
        link = _link(key)
        try:
            if _kind(info.st_mode) != A_FILE:
                raise NotAFile(_kind(info.st_mode))
            if limit is not None and info.st_size > limit:
                raise TooLarge(info.st_size)
            data = _read(key, limit)
        except NotAFile as exc:
            self.log[key] = link + exc.kind
            raise
        except OSError:
            self.log[key] = link + UNREADABLE
            raise
        self.log[key] = link + digest(data)
        self._bytes[key] = data
        return data

    def names(self, folder: Path | str) -> list[str]:
        """The names in `folder`, sorted (logged as its listing); OSError when it cannot be
        listed."""
        key = os.fspath(folder)
        self._check(key)
        try:
            found = sorted(os.listdir(key))
        except OSError:
            self.log[key + LISTING] = UNREADABLE
            raise
        self.log[key + LISTING] = digest("\0".join(found).encode())
        return found

    def handed(self, path: Path | str) -> bytes | None:
        """The bytes already handed out for `path`, if any (reads nothing)."""
        return self._bytes.get(os.fspath(path))


def observe(key: str, logged: str | None) -> str | None:
    """What the disk shows now for a log entry, in the log's words (see `Sources`)."""
    probe = Sources()
    with_bytes = logged is not None and logged.rpartition(": ")[2].startswith(DIGEST)
    try:
        if key.endswith(LISTING):
            probe.names(key[: -len(LISTING)])
        elif with_bytes:
            probe.read(key)
        else:
            probe.kind(key)
    except OSError:
        pass
    return next(iter(probe.log.values()), ABSENT)
