"""`docs --write FILE`: the table goes between the marker lines, each a line of its own (a marker
quoted in a sentence is text); every other byte of the file stays as it was (CRLF, a byte-order
mark, text around the markers); a failed write (a full disk) leaves the file whole; a file without
usable markers is one line, exit 2, and is left alone."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bakegen.commands import docs
from bakegen.errors import UsageError, WriteFailed
from testing.helpers import ROOT, make_workspace, run_cli
from tests.integration.test_bake_key_conformance import MANIFEST

B, E = docs.BEGIN, docs.END
TABLE = "### app\n\n| a |\n|---|\n| b |\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws", MANIFEST)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["", "BOM"])
def test_only_the_lines_between_the_markers_change(newline: str, bom: str) -> None:
    before = f"{bom}# Title{newline}text with the markers `{B}` and `{E}` in it{newline}{newline}"
    after = f"more{newline}mixed\nendings\r\n{B} quoted again{newline}no newline at the end"
    text = f"{before}{B}{newline}old\r\n{newline}stale | table{newline}{E}{newline}{after}"
    once = docs.replace_between_markers(text, TABLE, "R.md")
    assert once.startswith(f"{before}{B}{newline}")
    assert once.endswith(f"{newline}{E}{newline}{after}")
    inner = once[len(before) + len(B) + len(newline) : -len(f"{E}{newline}{after}")]
    assert inner == newline + TABLE.rstrip("\n").replace("\n", newline) + newline + newline
    assert docs.replace_between_markers(once, TABLE, "R.md") == once


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"see `{B}` and `{E}` below\n",
            "R.md: no <!-- bakegen:tags --> ... <!-- /bakegen:tags -->",
        ),
        (f"{B}\nno end, only `{E}` in a sentence\n", "R.md: no <!-- bakegen:tags --> ..."),
        (f"{E}\n{B}\n", f"R.md:1: {E} comes before {B}; put it after"),
        (f"{B}\n{E}\n{B}\n{E}\n", f"R.md: {B} is on more than one line (1, 3); keep one"),
        (f"{B}\n  {E}  \n{E}\r\n", f"R.md: {E} is on more than one line (2, 3); keep one"),
    ],
)
def test_markers_that_do_not_make_one_place_are_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        docs.replace_between_markers(text, TABLE, "R.md")
    assert info.value.lines()[0].startswith(message)


def test_a_page_that_only_quotes_the_markers_is_left_alone(ws: Path) -> None:
    readme = ws / "README.md"  # a page of bakegen's own that quotes them
    readme.write_bytes((ROOT / "docs" / "how-to" / "inspect.md").read_bytes())
    before = readme.read_bytes()
    assert B in before.decode()  # quoted in a sentence
    result = run_cli("docs", "--write", "README.md", cwd=ws)
    assert result.code == 2
    assert result.err == (
        f"README.md: no {B} ... {E} markers to write the table between "
        "(each on a line of its own)\n"
    )
    assert readme.read_bytes() == before


def test_a_crlf_readme_keeps_every_byte_outside_the_table(ws: Path) -> None:
    readme = ws / "README.md"
    head = f"# Images\r\n\r\nThe table below is made by `{B}`.\r\n\r\n{B}\r\n".encode()
    tail = f"{E}\r\n\r\nThe end\r\n".encode()
    readme.write_bytes(head + b"old\r\n" + tail)
    result = run_cli("docs", "--write", "README.md", cwd=ws)
    assert (result.code, result.err) == (0, "README.md: image table updated\n")
    written = readme.read_bytes()
    assert written.startswith(head + b"\r\n### ")
    assert written.endswith(b"|\r\n\r\n" + tail)
    assert b"\n" not in written.replace(b"\r\n", b"")
    assert run_cli("docs", "--write", "README.md", cwd=ws).err == (
        "README.md: image table up to date\n"
    )


def test_a_full_disk_leaves_the_readme_whole(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = ws / "README.md"
    before = f"intro\n{B}\nold table\n{E}\nrest\n".encode()
    readme.write_bytes(before)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the staged copy cannot be flushed
    result = run_cli("docs", "--write", "README.md", cwd=ws)
    assert (result.code, result.err) == (
        WriteFailed.exit_code,
        "README.md: cannot write: No space left on device; nothing was changed\n",
    )
    assert readme.read_bytes() == before
    assert sorted(p.name for p in ws.iterdir()) == ["README.md", "manifest", "templates"]


@pytest.mark.parametrize(
    ("content", "said"),
    [(b"\xff\xfe not text", "not UTF-8 text"), (None, "No such file or directory")],
)
def test_a_readme_that_cannot_be_read_is_one_line(
    ws: Path, content: bytes | None, said: str
) -> None:
    if content is not None:
        (ws / "README.md").write_bytes(content)
    result = run_cli("docs", "--write", "README.md", cwd=ws)
    assert (result.code, result.err) == (2, f"README.md: cannot read: {said}\n")
