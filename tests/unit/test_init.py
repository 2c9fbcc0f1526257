"""`bakegen init DIR`: anything in the way (a file where a folder goes, a file or folder where a
file goes, a symlink on the way, inside the workspace or out of it) is one line per problem, exit
2, with nothing written; a failure midway (a full disk, Ctrl-C) leaves nothing behind, the folders
init made included."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bakegen.commands.init import starter_files
from testing.helpers import run_cli


def snapshot(root: Path) -> dict[str, str]:
    """Every path under `root`: what it is (a symlink's target, a file's text)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[rel] = "folder"
        else:
            found[rel] = path.read_text(encoding="utf-8")
    return found


def make(root: Path, setup: list[str]) -> None:
    """Make the paths of `setup` under `root`: `PATH/` a folder, `PATH -> TARGET` a symlink,
    anything else a file."""
    for entry in setup:
        name, _, target = entry.partition(" -> ")
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if target:
            path.symlink_to(target)
        elif name.endswith("/"):
            path.mkdir()
        else:
            path.write_text("mine\n", encoding="utf-8")


# What stands in the way, and the first line init says about it.
IN_THE_WAY: dict[str, tuple[list[str], str, str]] = {
    "DIR is a file": (["ws"], "ws", "ws: is not a folder; bakegen init"),
    "a file above DIR": (
        ["up"],
        "up/ws",
        "up: is not a folder; bakegen init makes a workspace in a new or empty folder",
    ),
    "DIR is a symlink to nothing": (["ws -> nowhere"], "ws", "ws: is not a folder"),
    "manifest is a file": (
        ["ws/manifest"],
        "ws",
        "ws/manifest: is a file where bakegen needs a folder; move it away",
    ),
    "templates/debian is a file": (
        ["ws/templates/debian"],
        "ws",
        "ws/templates/debian: is a file where bakegen needs a folder; move it away",
    ),
    "README.md is a folder": (
        ["ws/README.md/"],
        "ws",
        "ws/README.md: exists; bakegen writes only new files there",
    ),
    "templates links out of the workspace": (
        ["outside/", "ws/templates -> ../outside"],
        "ws",
        "ws/templates: is a symlink; bakegen does not write through symlinks "
        "(remove it and run bakegen init again)",
    ),
    "templates/debian links out": (
        ["outside/", "ws/templates/debian -> ../../outside"],
        "ws",
        "ws/templates/debian: is a symlink",
    ),
    "manifest links inside the workspace": (
        ["ws/mine/", "ws/manifest -> mine"],
        "ws",
        "ws/manifest: is a symlink",
    ),
    "README.md links to a file out of it": (
        ["outside.md", "ws/README.md -> ../outside.md"],
        "ws",
        "ws/README.md: is a symlink",
    ),
    "README.md links to nothing": (
        ["ws/README.md -> ../gone.md"],
        "ws",
        "ws/README.md: is a symlink",
    ),
}


@pytest.mark.parametrize("case", list(IN_THE_WAY))
def test_anything_in_the_way_is_one_line_and_nothing_is_written(tmp_path: Path, case: str) -> None:
    setup, directory, said = IN_THE_WAY[case]
    make(tmp_path, setup)
    before = snapshot(tmp_path)
    result = run_cli("init", directory, cwd=tmp_path)
    assert result.code == 2, result.err
    lines = result.err.splitlines()
    assert lines[0].startswith(said), lines
    assert "Traceback" not in result.err
    assert "internal error" not in result.err
    assert len(lines) == len(set(lines))
    assert snapshot(tmp_path) == before


def test_init_writes_into_a_symlink_it_is_given_to_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "ws").symlink_to("real")
    assert run_cli("init", "ws", cwd=tmp_path).code == 0
    assert sorted(p for p, kind in snapshot(tmp_path / "real").items() if kind != "folder") == (
        sorted(starter_files())
    )


def failing_after(count: int, error: BaseException) -> Callable[..., None]:
    """`os.replace` that works `count` times, then raises `error`."""
    real = os.replace
    calls = [0]

    def replace(source: str, dest: str) -> None:
        calls[0] += 1
        if calls[0] > count:
            if isinstance(error, OSError):  # as the kernel's: naming the file
                raise OSError(error.errno, error.strerror, os.fspath(source))
            raise error
        real(source, dest)

    return replace


@pytest.mark.parametrize("count", range(len(starter_files())))
@pytest.mark.parametrize(
    "error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()]
)
@pytest.mark.parametrize("directory", ["ws", "a/b/ws"])
def test_a_failure_midway_leaves_nothing_behind(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    error: BaseException,
    directory: str,
) -> None:
    monkeypatch.setattr(os, "replace", failing_after(count, error))
    result = run_cli("init", directory, cwd=tmp_path)
    assert result.code == (2 if isinstance(error, OSError) else 130), result.err
    if isinstance(error, OSError):
        assert result.err.splitlines() == [
            f"{directory}/{rel}: cannot write: No space left on device; nothing was changed"
            for rel in [sorted(starter_files())[count]]
        ]
    assert snapshot(tmp_path) == {}


def test_a_folder_that_cannot_be_made_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self.name == "b":
            raise OSError(errno.EROFS, "Read-only file system")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    result = run_cli("init", "a/b/ws", cwd=tmp_path)
    assert (result.code, result.err) == (
        2,
        "a/b: cannot make the folder: Read-only file system\n",
    )
    assert snapshot(tmp_path) == {}
