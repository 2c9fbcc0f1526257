"""Every command that shows manifest or environment text shows it escaped: a test's command and a
VERSION full of escape sequences (colours, a cleared screen, an OSC 8 link, a window title), bidi
overrides, newlines and Markdown never reach a terminal raw, never split a line, a table cell or
a tab-separated field, never start a Markdown heading; `smoke --dry-run` prints commands bash
runs as the very words, and JSON keeps the values exact."""

from __future__ import annotations

import itertools
import json
import shlex
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bakegen.commands import docs
from bakegen.commands.smoke import docker_run
from bakegen.errors import one_line
from bakegen.output import shell_words
from bakegen.plan.records import DeclaredTest
from testing.helpers import make_workspace, run_cli

RUN = (
    "echo \x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \u202eevil\u202c\r\n"
    "printf 'a|b\\n' # `x` | $y *z*\n### heading\t<b>x</b>"
)
VERSION = "1.0\x1b[2J\x1b]0;title\x07\n### heading|`x`*y*_z_<b>&amp;\\|\u202e\x85\u2028"
MANIFEST = f"""\
python_versions: ["3.12"]
packages:
  app:
    runtime: [debian]
    tests:
      - name: hostile
        run: {json.dumps(RUN)}
releases:
  debian:
    "12":
      templates_dir: templates/debian
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
"""
TARGET = "app-runtime-debian12-py312"
TAG = f"app:{VERSION}-python3.12-bookworm-runtime"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VERSION", VERSION)
    return make_workspace(tmp_path / "ws", MANIFEST)


def assert_printable(text: str, separator: str = "") -> None:
    """Every line of `text` (split at `separator` too) holds only printable characters."""
    for line in text.split("\n"):
        for field in line.split(separator) if separator else [line]:
            assert field.isprintable(), repr(field)


COMMANDS = [
    ("list",),
    ("explain", TARGET),
    ("smoke", "--dry-run"),
    ("docs",),
    ("graph",),
    ("graph", "--format", "dot"),
    ("validate",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_command_prints_a_control_character(ws: Path, command: tuple[str, ...]) -> None:
    result = run_cli(*command, cwd=ws)
    assert result.code == 0, result.err
    assert_printable(result.out, "\t" if command == ("list",) else "")
    assert_printable(result.err)


def test_list_and_explain_show_the_values_escaped_in_one_line_each(ws: Path) -> None:
    listed = run_cli("list", cwd=ws).out.splitlines()
    row = next(line.split("\t") for line in listed if line.startswith(TARGET))
    assert row[-1] == one_line(TAG)
    explained = run_cli("explain", TARGET, cwd=ws).out.splitlines()
    [test_line] = [line for line in explained if line.lstrip().startswith("test hostile")]
    assert f"  {one_line(RUN)}  [manifest/manifest.yml:" in test_line


@pytest.mark.parametrize("command", [("list", "--json"), ("explain", TARGET, "--json")])
def test_json_keeps_the_values_exact(ws: Path, command: tuple[str, ...]) -> None:
    out = run_cli(*command, cwd=ws).out
    assert out.isascii()
    found = json.loads(out)
    if command[0] == "list":
        assert next(r for r in found if r["target"] == TARGET)["tags"] == [TAG]
    else:
        assert {v["field"]: v["value"] for v in found["values"]}["test hostile"] == RUN


def _quoted(line: str, start: int, close: str, escapes: bool) -> int:
    """The index of the `close` quote ending the quoted text from `start`."""
    end = start
    while line[end] != close:
        end += 2 if escapes and line[end] == "\\" else 1
    return end


def shell_split(line: str) -> list[str]:
    """The words a POSIX shell reads from `line`, with ANSI-C quotes (`$'...'`) as bash reads
    them; here without a process (tests/integration runs such lines in bash)."""
    words: list[str] = []
    word: str | None = None
    index = 0
    while index < len(line):
        char = line[index]
        if char == " ":
            if word is not None:
                words.append(word)
            word, index = None, index + 1
            continue
        word = word or ""
        if line.startswith("$'", index):
            end = _quoted(line, index + 2, "'", escapes=True)
            body = line[index + 2 : end].encode("ascii", "backslashreplace")
            word += body.decode("unicode_escape")  # the escapes of $'...' are Python's
        elif char in "'\"":
            end = _quoted(line, index + 1, char, escapes=char == '"')
            word += shlex.split(line[index : end + 1])[0]
        else:
            assert char not in "\\$`;|&<>()*?[#~", line[index:]  # nothing a shell would expand
            word, end = word + char, index
        index = end + 1
    return [*words, word] if word is not None else words


def test_smoke_dry_run_prints_commands_a_shell_reads_as_these_words(ws: Path) -> None:
    lines = run_cli("smoke", "--dry-run", cwd=ws).out.splitlines()
    [line] = [line for line in lines if line.startswith("docker run")]
    expected = docker_run(TAG, DeclaredTest(name="hostile", run=RUN, gpu=False))
    assert shell_split(line) == expected


@pytest.mark.parametrize(
    "words",
    [["a b", "it's", "", "$HOME", "`x`"], ["\x1b\n", "a\\'\x1b", "\u202e\U000e0001\x85", "é\n"]],
)
def test_shell_words_are_read_back_as_they_are(words: list[str]) -> None:
    line = shell_words(words)
    assert line.isprintable()
    assert shell_split(line) == words


def headings(tokens: list[Token]) -> list[str]:
    return [b.content for a, b in itertools.pairwise(tokens) if a.type == "heading_open"]


def cells(markdown: str) -> tuple[list[Token], list[list[str]]]:
    """The document's blocks, and its table rows as the text each cell shows."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows and token.level > 3:
            shown = "".join(c.content for c in token.children or [] if c.type != "softbreak")
            assert all(
                c.type in {"text", "code_inline", "html_inline"} for c in token.children or []
            )
            assert not any(c.type == "html_inline" for c in token.children or []), token.content
            rows[-1].append(shown)
    return tokens, rows


def test_docs_table_cells_show_the_text_and_start_no_heading(ws: Path) -> None:
    tokens, rows = cells(run_cli("docs", cwd=ws).out)
    assert headings(tokens) == ["app"]
    assert rows[0] == [
        "release type",
        "distro",
        "Python",
        "CUDA",
        "platforms",
        "built FROM",
        "tags",
    ]
    assert rows[1][:5] == ["runtime", "debian 12", "3.12", "", "linux/amd64"]
    assert rows[1][5:] == ["debian:bookworm-slim", one_line(TAG)]
    assert len(rows) == 2


def test_docs_write_puts_one_row_per_image_between_the_markers(ws: Path) -> None:
    readme = ws / "README.md"
    readme.write_text(f"# Images\n\n{docs.BEGIN}\n{docs.END}\n\nend\n", encoding="utf-8")
    result = run_cli("docs", "--write", "README.md", cwd=ws)
    assert result.code == 0, result.err
    text = readme.read_text(encoding="utf-8")
    assert_printable(text)
    tokens, rows = cells(text)
    assert headings(tokens) == ["Images", "app"]
    assert text.endswith(f"\n{docs.END}\n\nend\n")
    assert rows[1][-1] == one_line(TAG)
