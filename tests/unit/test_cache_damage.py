"""A damaged cache only costs time: any entry bakegen cannot use (of the wrong shape, cut
short, not UTF-8, a FIFO, a folder, a symlink, a huge file) is a cache miss, never a crash and
never a hang, and what a state replays is printed as one line of printable text. Without any
usable cache folder (no home folder, as in a container run with an arbitrary --user or under
`env -i`; a file where the folder should be) every command works, only slower."""

from __future__ import annotations

import json
import os
import pwd
import signal
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from pathlib import Path
from types import FrameType

import pytest

from bakegen import cache, cache_folder
from bakegen.cache import State
from testing.helpers import run_cli, tree
from tests.unit.test_cache_trust import Counts, counts, entries, rendered

__all__ = ["counts"]  # the fixture, shared with test_cache_trust

WRONG_VALUES: list[object] = [None, [], {}, 0, 1.5, True, "text", {"a": 1}, [1], {"a": [1]}]
UP_TO_DATE = (0, "", "up to date: 4 file(s)\n")


class Blocked(BaseException):
    """Raised in a test that blocks: no `except Exception` of bakegen's can swallow it."""


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A test that would block (opening a FIFO, say) fails after a few seconds instead, every
    few seconds again if something caught it."""
    blocked: list[str] = []

    def stuck(_signum: int, _frame: FrameType | None) -> None:
        blocked.append("blocked")
        raise Blocked("blocked")

    old = signal.signal(signal.SIGALRM, stuck)
    signal.setitimer(signal.ITIMER_REAL, 20, 2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert blocked == []


def _wrong_shapes(state: State) -> Iterator[tuple[str, object]]:
    """What a state entry could hold instead of a state: every field of every wrong type, a
    field missing or one too many, something else than an object."""
    good = asdict(state)
    for name in good:
        for value in WRONG_VALUES:
            if isinstance(value, type(good[name])) and not isinstance(value, bool | dict | list):
                continue
            if value in ({}, []) and isinstance(good[name], type(value)):
                continue  # of the right type, only empty
            yield f"{name}: {value!r}", {**good, name: value}
        yield f"no {name}", {k: v for k, v in good.items() if k != name}
    yield "one field more", {**good, "more": 1}
    yield "an output outside the workspace", {**good, "outputs": {"../x": "0" * 64}}
    yield "an absolute output", {**good, "outputs": {"/etc/passwd": "0" * 64}}
    for value in WRONG_VALUES:
        if not isinstance(value, dict):
            yield f"a state that is {value!r}", value


def check(ws: Path) -> tuple[int, str, str]:
    result = run_cli("render", "--check", cwd=ws)
    return result.code, result.out, result.err


def test_a_state_of_any_other_shape_is_a_miss(tmp_path: Path, counts: Counts) -> None:
    ws, first = rendered(tmp_path)
    state = cache.recorded(ws)
    path = cache.state_file(ws)
    assert state is not None
    assert path is not None
    shapes = list(_wrong_shapes(state))
    assert len(shapes) > 5 * len(fields(State))
    for what, data in shapes:
        assert cache_folder.keep(path, json.dumps(data).encode())  # as bakegen writes it
        counts.compiles.clear()
        assert check(ws) == UP_TO_DATE, what
        assert counts.compiles == ["compile"], what
    assert tree(ws) == first


DAMAGED: dict[str, bytes] = {
    "empty": b"",
    "cut short": b"\x00" * 7,
    "not UTF-8": b"\xff\xfe" * 40,
    "deeply nested": b"[" * 100_000,
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_a_state_written_but_unreadable_is_a_miss(
    tmp_path: Path, counts: Counts, damage: str
) -> None:
    ws, _ = rendered(tmp_path)
    path = cache.state_file(ws)
    assert path is not None
    for written in (True, False):  # tagged as bakegen tags it, or not at all
        if written:
            assert cache_folder.keep(path, DAMAGED[damage])
        else:
            path.write_bytes(DAMAGED[damage])
        counts.compiles.clear()
        assert check(ws) == UP_TO_DATE
        assert counts.compiles == ["compile"]


def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


def _symlink(path: Path) -> None:
    target = path.parent / f"{path.name}.target"
    path.rename(target)
    path.symlink_to(target)


def _huge(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(cache_folder.ENTRY_LIMIT + 4096)  # sparse: nothing is written


NOT_AN_ENTRY: dict[str, Callable[[Path], None]] = {
    "a FIFO": _fifo,
    "a folder": _folder,
    "a symlink to it": _symlink,
    "huge": _huge,
}


@pytest.mark.parametrize("kind", ["the state", "compiled templates", "outlines", "the key"])
@pytest.mark.parametrize("what", sorted(NOT_AN_ENTRY))
def test_an_entry_that_is_no_regular_file_is_a_miss_not_a_hang(
    tmp_path: Path, counts: Counts, kind: str, what: str
) -> None:
    ws, first = rendered(tmp_path)
    top = cache_folder.folder()
    assert top is not None
    state = cache.state_file(ws)
    assert state is not None
    paths = {
        "the state": [state],
        "compiled templates": entries(".code"),
        "outlines": entries(".outline"),
        "the key": [top / cache_folder.KEY_FILE],
    }[kind]
    for path in paths:
        NOT_AN_ENTRY[what](path)
    counts.compiles.clear()
    counts.templates.clear()
    assert check(ws) == UP_TO_DATE  # the state read back, unless it is what was damaged
    cache.forget(ws)
    again = run_cli("render", cwd=ws)
    assert again.code == 0, again.err
    assert tree(ws) == first
    state_lost = kind in ("the state", "the key")
    assert counts.compiles == ["compile"] * (2 if state_lost else 1)
    if kind == "compiled templates":
        assert "runtime.Dockerfile.j2" in counts.templates


def test_what_a_state_replays_is_printed_as_one_line(tmp_path: Path, counts: Counts) -> None:
    ws, _ = rendered(tmp_path)
    state = cache.recorded(ws)
    assert state is not None
    state.summary = "\x1b[31mred\x1b]0;title\x07\nsecond line\u202e"
    state.warnings = ["\x1b[2Jcleared"]
    state.lock_drift = ["\rdrift\x1b[K"]
    cache.save(ws, state)
    counts.compiles.clear()
    rendering = run_cli("render", cwd=ws)
    checking = run_cli("render", "--check", cwd=ws)
    assert counts.compiles == []  # replayed
    assert rendering.err.splitlines() == [
        "warning: \\x1b[2Jcleared",
        "warning: \\rdrift\\x1b[K",
        "\\x1b[31mred\\x1b]0;title\\x07\\nsecond line\\u202e",
    ]
    assert checking.code == 1
    assert checking.out == "\\rdrift\\x1b[K\n"


# --- without a cache folder ---------------------------------------------------------------


def _no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """No $HOME and a user the user database does not know (`docker run --user 4321`)."""
    for name in ("HOME", "BAKEGEN_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)

    def unknown(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", unknown)


def _relative_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_home(monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # not absolute: to be ignored


def _a_file_in_its_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "a-file" / "cache"))


def _empty(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_home(monkeypatch)
    monkeypatch.setenv("BAKEGEN_CACHE", "")
    monkeypatch.setenv("HOME", "")


NO_CACHE: dict[str, Callable[[pytest.MonkeyPatch, Path], None]] = {
    "no home folder": lambda mp, _: _no_home(mp),
    "a relative XDG_CACHE_HOME and no home": lambda mp, _: _relative_xdg(mp),
    "a file where the cache folder goes": _a_file_in_its_place,
    "an empty BAKEGEN_CACHE and HOME": lambda mp, _: _empty(mp),
}


@pytest.mark.parametrize("how", sorted(NO_CACHE))
def test_without_a_usable_cache_folder_every_command_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    ws, first = rendered(tmp_path)
    expected = {args: run_cli(*args, cwd=ws) for args in COMMANDS}
    NO_CACHE[how](monkeypatch, tmp_path)
    assert cache_folder.folder() is None
    assert cache_folder.secret() is None
    for args, then in expected.items():
        now = run_cli(*args, cwd=ws)
        assert (now.code, now.out, now.err) == (then.code, then.out, then.err), args
    (ws / "templates/t/runtime.Dockerfile.j2").write_bytes(b"FROM base\nRUN true\n")
    assert check(ws)[0] == 1
    assert run_cli("render", cwd=ws).code == 0
    assert check(ws) == UP_TO_DATE
    assert tree(ws) != first
    assert not any(tmp_path.rglob("relative"))
    assert not (ws / "relative").exists()


COMMANDS = [
    ("render",),
    ("render", "--check"),
    ("validate",),
    ("list",),
    ("--help",),
    ("render", "--help"),
    ("--version",),
]
