"""Every file of the workspace a compile reads goes through its `Sources`, once, whose log is
then what the render read: a reader that went around it would be a stale "up to date" waiting to
happen, and the audit hook below sees every file Python opens or lists."""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

import pytest

from bakegen import pipeline
from bakegen.pin.lock import lock_text
from bakegen.sources import (
    A_FILE,
    ABSENT,
    DIGEST,
    FOLDER,
    LISTING,
    OTHER,
    NotAFile,
    Sources,
    TooLarge,
    digest,
    observe,
)
from testing.helpers import copy_workspace, minimal_workspace

_watching: list[list[tuple[str, str]]] = []  # (event, path) while a test watches


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _watching and event in ("open", "os.listdir", "os.scandir") and args:
        path = args[0]
        if isinstance(path, (str, bytes, os.PathLike)):
            _watching[-1].append((event, os.fsdecode(path)))


sys.addaudithook(_hook)


def watched(ws: Path, sources: Sources) -> list[tuple[str, str]]:
    """Every open and listing of a path in `ws` while the workspace compiles."""
    seen: list[tuple[str, str]] = []
    _watching.append(seen)
    try:
        pipeline.compile_workspace(ws, sources=sources)
    finally:
        _watching.remove(seen)
    top = os.fspath(ws)
    return [(event, path) for event, path in seen if path == top or path.startswith(top + "/")]


def full_workspace(tmp_path: Path) -> Path:
    """A workspace with an include, a bake template of its own and a lock file."""
    ws = minimal_workspace(tmp_path, runtime=b'FROM base\n{% include "common/labels.j2" %}\n')
    (ws / "templates" / "common").mkdir()
    (ws / "templates" / "common" / "labels.j2").write_text('LABEL a="1"\n', encoding="utf-8")
    (ws / "docker-bake.hcl.j2").write_text(
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n', encoding="utf-8"
    )
    (ws / "manifest.lock").write_text(lock_text({}), encoding="utf-8")
    return ws.resolve()


@pytest.mark.parametrize("name", ["full", "seedlike"])
def test_every_file_a_compile_reads_is_in_the_log_with_the_bytes_handed_out(
    tmp_path: Path, name: str
) -> None:
    ws = full_workspace(tmp_path) if name == "full" else copy_workspace(name, tmp_path).resolve()
    sources = Sources()
    seen = watched(ws, sources)
    opened = {path for event, path in seen if event == "open"}
    listed = {path for event, path in seen if event != "open"}
    assert opened, "the audit hook saw nothing: the test proves nothing"
    # each file opened once: what a later reader (a check, Jinja looking again) would get
    # could differ from what the state records (tests/unit/test_warm_cold.py)
    times = collections.Counter(path for event, path in seen if event == "open")
    assert {path for path, count in times.items() if count > 1} == set()
    for path in opened:
        assert (sources.log.get(path) or "").rpartition(": ")[2].startswith(DIGEST), path
        assert sources.log[path] == digest(Path(path).read_bytes())
    assert all(path + LISTING in sources.log for path in listed)
    if name == "full":
        for rel in ("manifest/m.yml", "templates/common/labels.j2", "docker-bake.hcl.j2"):
            assert os.fspath(ws / rel) in opened
        assert os.fspath(ws / "manifest.lock") in opened
        assert sources.log[os.fspath(ws / "templates/t/common/labels.j2")] is ABSENT


def test_a_compile_through_a_reader_that_refuses_all_else_reads_the_same(
    tmp_path: Path,
) -> None:
    ws = full_workspace(tmp_path)
    first = Sources()
    expected = pipeline.compile_workspace(ws, sources=first).outputs
    asked: list[str] = []

    def allowed(path: str) -> bool:
        asked.append(path)
        return path in first.log or path + LISTING in first.log

    again = Sources(allowed)
    assert pipeline.compile_workspace(ws, sources=again).outputs == expected
    assert again.log == first.log
    assert asked
    with pytest.raises(PermissionError):
        again.read(ws / "somewhere-else")


def test_the_reader_tells_what_is_there_in_the_log_s_words(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "big").write_bytes(b"12345")
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    sources = Sources()
    assert sources.read(tmp_path / "f") == b"x"
    (tmp_path / "f").write_bytes(b"changed")
    assert sources.read(tmp_path / "f") == b"x"  # the same bytes each time in one render
    assert [sources.kind(tmp_path / n) for n in ("d", "fifo", "none")] == [FOLDER, OTHER, None]
    assert sources.kind(tmp_path / "link") == A_FILE
    with pytest.raises(NotAFile):
        sources.read(tmp_path / "fifo")  # never opened: it would block
    with pytest.raises(TooLarge):
        sources.read(tmp_path / "big", limit=3)
    with pytest.raises(FileNotFoundError):
        sources.read(tmp_path / "none")
    assert sources.names(tmp_path) == ["big", "d", "f", "fifo", "link"]
    log = sources.log
    assert log[os.fspath(tmp_path / "f")] == digest(b"x")
    assert str(log[os.fspath(tmp_path / "link")]).startswith(f"symlink to {tmp_path / 'f'}: ")
    assert log[os.fspath(tmp_path / "none")] is ABSENT
    # what the disk shows now: the changed file differs, and a file that could not be read
    # never matches; nothing else differs
    now = {key: observe(key, seen) for key, seen in log.items()}
    changed = {key for key in log if now[key] != log[key]}
    assert changed == {os.fspath(tmp_path / "f"), os.fspath(tmp_path / "big")}
    (tmp_path / "new").touch()
    assert (
        observe(os.fspath(tmp_path) + LISTING, log[os.fspath(tmp_path) + LISTING])
        != log[os.fspath(tmp_path) + LISTING]
    )
