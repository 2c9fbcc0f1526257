"""What the unit tier refuses: starting a process, opening a network connection (or looking a
name up), and writing outside the temporary folders (or in $HOME, even when it is in one).

`Sandbox.install` patches the standard library's entry points for each; an attempt raises
`Refused` and is recorded, so that a test fails even when the code under test catches the error.
"""

from __future__ import annotations

import builtins
import io
import os
import socket
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# os functions that change the file system at their first path (`dir_fd` relative, if given).
_PATH_CHANGES = (
    "mkdir",
    "rmdir",
    "remove",
    "unlink",
    "mkfifo",
    "mknod",
    "chmod",
    "utime",
    "truncate",
)
# ... and at both paths (the second relative to `dst_dir_fd`).
_TWO_PATH_CHANGES = ("rename", "replace", "link")
_SPAWNS = ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve")
# Devices a test may write to (pytest's output capture, closed-output checks).
_DEVICES = ("/dev/null", "/dev/full", "/dev/stdout", "/dev/stderr")


class Refused(AssertionError):
    """A unit test did what the unit tier forbids."""


def _where(path: Any, dir_fd: int | None, *, follow: bool = True) -> str | None:
    """The absolute path a call would change, or None for a descriptor."""
    if isinstance(path, int):
        return None
    text = os.fsdecode(os.fspath(path))
    if dir_fd is not None and not os.path.isabs(text):
        text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
    text = os.path.abspath(text)
    if follow:
        return os.path.realpath(text)
    head, tail = os.path.split(text)
    return os.path.join(os.path.realpath(head), tail)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class Sandbox:
    """The refusals, installed for one test with `install(monkeypatch)`."""

    def __init__(self, writable: Iterable[Path], home: Path) -> None:
        self.writable = tuple(os.path.realpath(p) for p in writable)
        self.home = os.path.realpath(home)
        self.refused: list[str] = []

    def may_write(self, where: str) -> bool:
        """Whether `where` is in a writable folder; in $HOME only if that folder is too (HOME may
        itself be a temporary folder)."""
        inside = [w for w in self.writable if _within(where, w)]
        if _within(where, self.home):
            return any(_within(w, self.home) for w in inside)
        return bool(inside)

    def refuse(self, what: str) -> None:
        self.refused.append(what)
        raise Refused(f"unit tests {what} (tests/unit/conftest.py)")

    def check_write(self, path: Any, dir_fd: int | None = None, *, follow: bool = True) -> None:
        where = _where(path, dir_fd, follow=follow)
        if where is None or where in _DEVICES:
            return
        if not self.may_write(where):
            self.refuse(f"write only in temporary folders, not to {where}")

    def install(self, mp: pytest.MonkeyPatch) -> None:
        self._processes(mp)
        self._network(mp)
        self._writes(mp)

    def _processes(self, mp: pytest.MonkeyPatch) -> None:
        def no_process(*args: Any, **_: Any) -> Any:
            shown = next((a for a in args if isinstance(a, str | bytes | list | tuple)), "")
            self.refuse(f"start no process ({shown!r})")

        mp.setattr(subprocess.Popen, "_execute_child", no_process)
        for name in _SPAWNS:
            if hasattr(os, name):
                mp.setattr(os, name, no_process)

    def _network(self, mp: pytest.MonkeyPatch) -> None:
        def no_connection(_sock: socket.socket, address: Any, *_: Any) -> Any:
            self.refuse(f"open no connection (to {address!r})")

        def no_lookup(host: Any, *_: Any, **__: Any) -> Any:
            self.refuse(f"look up no host name ({host!r})")

        mp.setattr(socket.socket, "connect", no_connection)
        mp.setattr(socket.socket, "connect_ex", no_connection)
        mp.setattr(socket.socket, "sendto", no_connection)
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            mp.setattr(socket, name, no_lookup)

    def _writes(self, mp: pytest.MonkeyPatch) -> None:
        real_open, real_os_open = io.open, os.open

        def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(c in mode for c in "wax+"):
                self.check_write(file)
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path: Any, flags: int, *args: Any, dir_fd: int | None = None) -> int:
            if flags & _WRITE_FLAGS:
                self.check_write(path, dir_fd, follow=not flags & os.O_NOFOLLOW)
            return real_os_open(path, flags, *args, dir_fd=dir_fd)

        mp.setattr(builtins, "open", guarded_open)
        mp.setattr(io, "open", guarded_open)
        mp.setattr(os, "open", guarded_os_open)
        for name in _PATH_CHANGES:
            mp.setattr(os, name, self._one_path(getattr(os, name)))
        for name in _TWO_PATH_CHANGES:
            mp.setattr(os, name, self._two_paths(getattr(os, name)))
        mp.setattr(os, "symlink", self._link_at_second(os.symlink))

    def _one_path(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(path: Any, *args: Any, **kwargs: Any) -> Any:
            self.check_write(path, kwargs.get("dir_fd"), follow=False)
            return real(path, *args, **kwargs)

        return guarded

    def _two_paths(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
            self.check_write(src, kwargs.get("src_dir_fd"), follow=False)
            self.check_write(dst, kwargs.get("dst_dir_fd"), follow=False)
            return real(src, dst, *args, **kwargs)

        return guarded

    def _link_at_second(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
            self.check_write(dst, kwargs.get("dir_fd"), follow=False)
            return real(src, dst, *args, **kwargs)

        return guarded
