"""Manifest values are data wherever they land: in the bake file (HCL or JSON) and in Dockerfiles.

- labels and secret paths full of `${`, `%{`, `$${`, quotes, backslashes and non-ASCII come back
  exactly through real `docker buildx bake --print`, from both bake file formats;
- envars and header lines cannot add or change Dockerfile instructions: line breaks are refused,
  and the rendered Dockerfiles, read by BuildKit's own parser (the `dockerfile` package), hold the
  same instructions as with plain values and ENV values that are exactly the manifest's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import yaml

from bakegen.load.merge import load
from testing.helpers import CORPUS, ROOT, run_cli

CORPUS_BASE = CORPUS / "_base"

TRICKY = [
    "${VERSION}",
    "${HOME:-x}",
    "%{ if true }yes%{ endif }",
    "$${VERSION}",
    "$$",
    "$",
    "%",
    "%%{",
    "%%{x}",
    "${",
    "%{",
    "}",
    '"quoted"',
    "'single'",
    "back\\slash",
    "trailing\\",
    "\\${VERSION}",
    '\\"',
    "\\n is not a newline",
    "é ü 中文 😀",
    "\u2028 \u2029 \u0085 \u202e \u200b \ufeff",
    "  spaces  ",
    "",
    "a=b=c",
    "#hash",
    "{{ jinja }}",
    "{% raw %}",
    "$(echo x) `echo y`",
]
TRICKY_KEYS = [
    "${VERSION}",
    "%{x}",
    "$${x}",
    'a"b',
    "back\\slash",
    "é",
    "with space",
    "{{ k }}",
    "for",
    "null",
    "true",
    "VERSION",
    "a.b/c-d_e",
]
RELEASE = {
    "templates_dir": "templates/std",
    "base_image": "debian:bookworm-slim",
    "add_to_tags": "bookworm",
}


def write_manifest(ws: Path, manifest: dict[str, Any]) -> None:
    """Write `manifest` as YAML and check bakegen reads back exactly that data."""
    (ws / "manifest").mkdir(parents=True, exist_ok=True)
    path = ws / "manifest" / "manifest.yml"
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(text, encoding="utf-8")
    assert load(path, ws).data == manifest


def std_workspace(tmp_path: Path, manifest: dict[str, Any]) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(CORPUS_BASE / "templates", ws / "templates")
    write_manifest(ws, manifest)
    return ws


def repo_workspace(tmp_path: Path, name: str, envars: list[str], header: str = "") -> Path:
    """A workspace with the repository's own Debian templates (they quote ENV with env_quote)."""
    ws = tmp_path / name
    shutil.copytree(ROOT / "templates", ws / "templates")
    release = {**RELEASE, "templates_dir": "templates/debian", "envars": envars}
    if header:
        release["header"] = header
    write_manifest(
        ws,
        {
            "python_versions": ["3.11"],
            "packages": {"app": {"runtime": ["debian"], "devel": ["debian"]}},
            "releases": {"debian": {"12": release}},
        },
    )
    return ws


# --- bake files ---------------------------------------------------------------------------------


# --- Dockerfiles ---------------------------------------------------------------------------------


def buildkit_word(word: str) -> str:
    """What BuildKit's shell lexer (frontend/dockerfile/shell/lex.go) makes of one ENV value word,
    for words bakegen writes: double quotes, backslash escapes, and no variable left to expand."""
    out: list[str] = []
    quoted = False
    index = 0
    while index < len(word):
        char = word[index]
        following = word[index + 1] if index + 1 < len(word) else ""
        if char == "$":
            raise AssertionError(f"unescaped $ in {word!r} would expand a variable")
        if quoted and char == '"':
            quoted = False
        elif quoted and char == "\\" and following in {'"', "$", "\\"}:
            out.append(following)
            index += 1
        elif quoted:
            out.append(char)  # any other backslash stays, as processDoubleQuote keeps it
        elif char == '"':
            quoted = True
        elif char == "\\" and following:
            out.append(following)
            index += 1
        elif char in " \t'":
            raise AssertionError(f"unquoted {char!r} in {word!r}")
        else:
            out.append(char)
        index += 1
    assert not quoted, f"unterminated quote in {word!r}"
    return "".join(out)


def env_words(path: Path) -> dict[str, str]:
    """ENV name -> its value word as written, over the whole Dockerfile."""
    words: dict[str, str] = {}
    for command in dockerfile.parse_file(str(path)):
        if command.cmd.upper() == "ENV":
            pairs = command.value
            assert len(pairs) % 2 == 0, command
            words.update(zip(pairs[::2], pairs[1::2], strict=True))
    return words


def instructions(path: Path) -> list[str]:
    return [c.cmd.upper() for c in dockerfile.parse_file(str(path))]


ENV_VALUES = [*TRICKY, "tab\there", "\t", "trailing space "]
DOCKERFILES = [
    "generated/app/debian12/base/Dockerfile",
    "generated/app/debian12/runtime/Dockerfile",
]


def test_env_values_are_exact_and_add_no_instruction(tmp_path: Path) -> None:
    tricky = [f"V{i:02d}={value}" for i, value in enumerate(ENV_VALUES)]
    plain = [f"V{i:02d}=plain" for i in range(len(ENV_VALUES))]
    ws = repo_workspace(tmp_path, "tricky", tricky)
    reference = repo_workspace(tmp_path, "plain", plain)
    for workspace in (ws, reference):
        result = run_cli("render", cwd=workspace)
        assert result.code == 0, result.err
    words = env_words(ws / DOCKERFILES[0])
    plain_words = env_words(reference / DOCKERFILES[0])
    assert words.keys() == plain_words.keys()
    for index, value in enumerate(ENV_VALUES):
        key = f"V{index:02d}"
        assert buildkit_word(words.pop(key)) == value, key
        assert buildkit_word(plain_words.pop(key)) == "plain"
    assert words == plain_words  # the template's own ENV lines
    for rel in DOCKERFILES:
        assert instructions(ws / rel) == instructions(reference / rel), rel


def test_header_lines_stay_comments(tmp_path: Path) -> None:
    header = "\n".join(
        [
            "# syntax=docker/dockerfile:1",
            "# ${VERSION} %{x} $${y} \\",
            "#\\",
            "# FROM scratch AS evil",
            "# \"quoted\" 'single' é 😀 \u2028 \u0085",
            "#",
            "",
        ]
    )
    ws = repo_workspace(tmp_path, "header", ["A=1"], header)
    reference = repo_workspace(tmp_path, "plain", ["A=1"])
    for workspace in (ws, reference):
        result = run_cli("render", cwd=workspace)
        assert result.code == 0, result.err
    for rel in DOCKERFILES:
        text = (ws / rel).read_text(encoding="utf-8")
        assert text.startswith(header), rel
        assert instructions(ws / rel) == instructions(reference / rel), rel
        assert env_words(ws / rel) == env_words(reference / rel), rel


@pytest.mark.parametrize(
    "value",
    ["a\nRUN touch /evil", "a\rRUN touch /evil", "a\x0bb", "a\x0cb", "a\x00b", "\x1b[31mred"],
    ids=["LF", "CR", "VT", "FF", "NUL", "ESC"],
)
def test_envar_with_a_line_break_or_control_character_is_refused(
    value: str, tmp_path: Path
) -> None:
    ws = repo_workspace(tmp_path, "ws", ["OK=1", f"BAD={value}"])
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "manifest/manifest.yml:17:9: releases.debian.12.envars[1]: "
        "a value may not hold newlines or control characters"
    ]
    assert not (ws / "generated").exists()


@pytest.mark.parametrize(
    "header",
    [
        "# one\nRUN touch /evil\n",
        "# one\r# two\n",
        "# one\rRUN touch /evil\n",
        "# one\x0bRUN touch /evil\n",
        "# one\u2028RUN touch /evil\n",
        " # indented\n",
        "# escape=`\n",
        "#escape = `\n",
    ],
    ids=["LF", "CR", "CR-RUN", "VT", "LS", "indented", "escape", "escape-spaced"],
)
def test_header_that_is_not_plain_comments_is_refused(header: str, tmp_path: Path) -> None:
    ws = repo_workspace(tmp_path, "ws", ["A=1"], header)
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith("manifest/manifest.yml:")
    assert ": releases.debian.12.header: " in line
    assert not (ws / "generated").exists()
