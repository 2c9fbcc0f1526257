"""Template files: read as UTF-8 text with LF line endings; files that cannot be templates are
one problem at their place, and nothing that is not a regular file is ever opened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bakegen.checks.dockerfiles import check
from testing.helpers import ROOT, minimal_workspace, run_cli

WHERE = "releases.debian.12.templates_dir"
RUNTIME = "generated/app/debian12/runtime/Dockerfile"


def workspace(tmp_path: Path, runtime: bytes = b"FROM base\n") -> Path:
    return minimal_workspace(tmp_path, runtime=runtime)


@pytest.mark.parametrize("include", [False, True])
def test_a_byte_order_mark_is_dropped(tmp_path: Path, include: bool) -> None:
    bom = b"\xef\xbb\xbf"
    if include:
        ws = workspace(tmp_path, bom + b'{% include "common/from.j2" %}\nRUN true\n')
        (ws / "templates" / "common").mkdir()
        (ws / "templates" / "common" / "from.j2").write_bytes(bom + b"FROM base\n")
    else:
        ws = workspace(tmp_path, bom + b"FROM base\n")
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    text = (ws / RUNTIME).read_text(encoding="utf-8")
    assert "\ufeff" not in text
    assert text.splitlines()[1] == "FROM base"


def test_crlf_line_endings_become_lf(tmp_path: Path) -> None:
    ws = workspace(tmp_path, b'FROM base\r\n{% raw %}RUN echo "{{x}}"\r\n{% endraw %}RUN true\r\n')
    (ws / "templates" / "t" / "base.Dockerfile.j2").write_bytes(b"FROM {{ base_image }}\r\n")
    assert run_cli("render", cwd=ws).code == 0
    text = (ws / RUNTIME).read_bytes()
    assert b"\r" not in text
    assert text.endswith(b'FROM base\nRUN echo "{{x}}"\nRUN true\n')
    assert b"\r" not in (ws / "generated/app/debian12/base/Dockerfile").read_bytes()


@pytest.mark.parametrize("include", [False, True])
def test_a_file_that_is_not_utf8_is_reported_at_the_byte(tmp_path: Path, include: bool) -> None:
    bad = "FROM base\n# caf\u00e9 na\u00efve ".encode() + b"\xe9\n"
    if include:
        ws = workspace(tmp_path, b'FROM base\n{% include "common/x.j2" %}\n')
        (ws / "templates" / "common").mkdir()
        (ws / "templates" / "common" / "x.j2").write_bytes(bad)
        shown = "templates/common/x.j2"
    else:
        ws = workspace(tmp_path, bad)
        shown = "templates/t/runtime.Dockerfile.j2"
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [f"{shown}:2:14: {WHERE}: file is not UTF-8 text"]


# --- checks on the rendered text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "message", "line"),
    [
        (b"", "renders no Dockerfile instruction; a Dockerfile starts with FROM", 1),
        (b"# only a comment\n{# and a Jinja one #}\n", "renders no Dockerfile instruction", 1),
        (
            b"# set up\n\nFROM nosuchstage\nRUN true\n",
            "this image is built FROM its parent, the bake context 'base', "
            "but no FROM uses 'base' or a stage built from it",
            3,
        ),
        (
            b"RUN true\nFROM base\n",
            "the first instruction is RUN; a Dockerfile starts with FROM "
            "(only ARG may come before it)",
            1,
        ),
        (b"ARG X=1\nRUN true\n", "renders no FROM instruction; a Dockerfile needs one", 1),
    ],
)
def test_a_template_that_renders_a_bad_dockerfile_is_reported_at_it(
    tmp_path: Path, runtime: bytes, message: str, line: int
) -> None:
    ws = workspace(tmp_path, runtime)
    for command in (["validate"], ["render"]):
        result = run_cli(*command, cwd=ws)
        assert result.code == 2, result.err
        lines = result.err.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"templates/t/runtime.Dockerfile.j2:{line}:1: {WHERE}: "), lines
        assert message in lines[0]
        assert lines[0].endswith("(package app, runtime on debian12)"), lines
    assert not (ws / "generated").exists()


@pytest.mark.parametrize(
    "text",
    [
        "FROM base\n",
        "# syntax=docker/dockerfile:1\n# comment\nARG V=1\nFROM --platform=$BUILDPLATFORM base AS build\n"
        "FROM build AS final\n",
        "FROM base AS b1\nFROM alpine AS tools\nFROM b1\nCOPY --from=tools / /\n",
        "FROM \\\n  --platform=linux/amd64 \\\n  base\n",
        "# escape=`\nFROM `\n  base\n",
        "FROM ${PARENT}\n",
        "from Base as Stage\nfrom stage\n",
    ],
)
def test_child_dockerfiles_that_use_base(text: str) -> None:
    assert check(text, from_parent=True) == []


@pytest.mark.parametrize(
    "text",
    [
        "FROM nosuchstage\n",
        "FROM alpine AS base2\nFROM base2\n",
        "FROM alpine\nRUN <<EOF\nFROM base\nEOF\n",
        "FROM alpine\n# FROM base\n",
    ],
)
def test_child_dockerfiles_that_do_not_use_base(text: str) -> None:
    assert [f.instruction for f in check(text, from_parent=True)] == [
        text.split("\n", maxsplit=1)[0]
    ]


def test_a_parent_dockerfile_may_use_any_image() -> None:
    assert check("FROM debian:bookworm-slim AS base\nRUN true\n", from_parent=False) == []


@pytest.mark.parametrize(
    ("key", "apt", "dnf"),
    [
        (None, "/ubuntu2404/${arch}/3bf863cc.pub", "/rhel9/${arch}/D42D0685.pub"),
        ("mirror.pub", "/ubuntu2404/${arch}/mirror.pub", "/rhel9/${arch}/mirror.pub"),
        ("https://keys.example/cuda.asc", '"https://keys.example/cuda.asc"', "keys.example"),
        ("./keys/cuda.asc", "ca-certificates; \\\n    echo", "file:///etc/pki/rpm-gpg/cuda.asc"),
    ],
)
def test_the_cuda_key_reaches_apt_and_dnf(
    tmp_path: Path, key: str | None, apt: str, dnf: str
) -> None:
    """`cuda_repo_key` in each of its forms, in the Debian-family and the RHEL cudnn templates."""
    shutil.copytree(ROOT / "manifest", tmp_path / "manifest")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cuda.asc").write_text("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
    if key:
        path = tmp_path / "manifest" / "manifest.yml"
        path.write_text(
            f"cuda_repo_key: {key}\n" + path.read_text(encoding="utf-8"), encoding="utf-8"
        )
    result = run_cli("render", cwd=tmp_path)
    assert result.code == 0, result.err
    ubuntu = (
        tmp_path / "generated/model-server/ubuntu24.04/cudnn-cuda12.6.3/Dockerfile"
    ).read_text()
    rocky = (
        tmp_path / "generated/model-server/rockylinux9/cudnn-cuda12.6.3/Dockerfile"
    ).read_text()
    assert apt in ubuntu
    assert dnf in rocky
    copies = [line for line in ubuntu.splitlines() + rocky.splitlines() if line.startswith("COPY")]
    assert copies == (
        [
            "COPY keys/cuda.asc /usr/share/keyrings/cuda.asc",
            "COPY keys/cuda.asc /etc/pki/rpm-gpg/cuda.asc",
        ]
        if key == "./keys/cuda.asc"
        else []
    )
