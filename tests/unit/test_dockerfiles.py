"""Generated Dockerfiles parse with BuildKit's own parser; templates fail loudly."""

from __future__ import annotations

import os
from pathlib import Path

import dockerfile
import pytest

from bakegen.emit.dockerfiles import env_quote
from testing.helpers import ROOT, copy_workspace, make_workspace, run_cli

SEED_LIKE = (ROOT / "tests/workspaces/seedlike/manifest/manifest.yml").read_text()


def generated(ws: Path) -> list[Path]:
    return sorted((ws / "generated").rglob("Dockerfile"))


@pytest.mark.parametrize("name", ["example", "seedlike"])
def test_every_dockerfile_parses(name: str, tmp_path: Path) -> None:
    ws = ROOT if name == "example" else copy_workspace("seedlike", tmp_path)
    if name != "example":
        assert run_cli("render", cwd=ws).code == 0
    files = generated(ws)
    assert files
    for path in files:
        commands = dockerfile.parse_file(str(path))
        assert commands[0].cmd == "FROM", path
        froms = [c.value[0] for c in commands if c.cmd == "FROM"]
        if "/_verify/" in str(path):
            assert froms == ["image"], path
        elif "/base/" in str(path):
            assert len(froms) == 1, path
            assert froms != ["base"], path
        else:
            assert froms == ["base"], path


def test_cuda_dockerfile_pins_components_and_picks_repo_by_arch(tmp_path: Path) -> None:
    ws = copy_workspace("seedlike", tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    text = (ws / "generated/model-server/centos7/cudnn/Dockerfile").read_text()
    assert "cuda-cudart-11-3-11.3.109-1" in text
    assert "libcudnn8-cuda-11-8.2.0.53-1" in text
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=11.3 brand=tesla,driver>=418,driver<419 driver>=450"' in text
    assert "amd64) arch=x86_64" in text
    assert "arm64) arch=sbsa" in text
    assert "/rhel7/${arch}" in text
    assert "x86_64/" not in text


def test_undefined_template_variable_names_template_and_line(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, SEED_LIKE)
    path = ws / "templates/alpine/runtime.Dockerfile.j2"
    path.write_text("FROM base\n# fine\nRUN echo {{ no_such_name }}\n")
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "templates/alpine/runtime.Dockerfile.j2:3:13: releases.alpine.3.14.templates_dir: "
        "template error: 'no_such_name' is undefined (package model-server, runtime on "
        "alpine3.14)"
    ]
    assert not (ws / "generated").exists()


def test_missing_template_file_is_reported(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, SEED_LIKE)
    (ws / "templates/alpine/base.Dockerfile.j2").unlink()
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "manifest/manifest.yml:89:7: releases.alpine.3.14.templates_dir: "
        "template 'templates/alpine/base.Dockerfile.j2' not found"
    ]


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("C.UTF-8", '"C.UTF-8"'), ('a"b', '"a\\"b"'), ("$HOME", '"\\$HOME"'), ("a\\b", '"a\\\\b"')],
)
def test_env_quote(value: str, quoted: str) -> None:
    assert env_quote(value) == quoted


def test_workspace_bake_template_overrides_and_its_errors_are_reported(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, SEED_LIKE)
    (ws / "docker-bake.hcl.j2").write_text("# {{ marker }}\n# mine\n{{ nothing_here }}\n")
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "docker-bake.hcl.j2:3:1: <root>: template error: 'nothing_here' is undefined"
    ]
    (ws / "docker-bake.hcl.j2").write_text(
        "# {{ marker }}\n# mine: {{ bake.targets | length }}\n"
        '{% for g in bake.groups %}group "{{ g.name }}" {}\n{% endfor %}'
        '{% for t in bake.targets %}target "{{ t.name }}" {}\n{% endfor %}'
    )
    assert run_cli("render", cwd=ws).code == 0
    assert (ws / "docker-bake.hcl").read_text().splitlines()[1] == "# mine: 109"


def fifo_workspace(tmp_path: Path, runtime: bytes, include: bytes | None = None) -> Path:
    ws = tmp_path / "ws"
    (ws / "manifest").mkdir(parents=True)
    (ws / "templates" / "t").mkdir(parents=True)
    (ws / "manifest" / "m.yml").write_text(
        'python_versions: ["3.12"]\npackages:\n  app:\n    runtime: [debian]\nreleases:\n'
        '  debian:\n    "12":\n      templates_dir: templates/t\n'
        "      base_image: debian:bookworm-slim\n      add_to_tags: bookworm\n",
        encoding="utf-8",
    )
    (ws / "templates" / "t" / "base.Dockerfile.j2").write_bytes(b"FROM {{ base_image }}\n")
    (ws / "templates" / "t" / "runtime.Dockerfile.j2").write_bytes(runtime)
    if include is not None:
        (ws / "templates" / "inc.j2").write_bytes(include)
    return ws


def test_templates_saved_with_a_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    ws = fifo_workspace(
        tmp_path,
        bom + b'FROM base\r\n{% include "inc.j2" %}\r\n',
        bom + b"RUN true\r\n",
    )
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    text = (ws / "generated/app/debian12/runtime/Dockerfile").read_text(encoding="utf-8")
    assert "\ufeff" not in text
    assert "\r" not in text
    assert [c.cmd for c in dockerfile.parse_string(text)] == ["FROM", "RUN"]


@pytest.mark.parametrize("which", ["template", "include"])
def test_a_fifo_template_is_never_opened(which: str, tmp_path: Path) -> None:
    ws = fifo_workspace(tmp_path, b'FROM base\n{% include "inc.j2" %}\n', b"RUN true\n")
    target = ws / (
        "templates/t/runtime.Dockerfile.j2" if which == "template" else "templates/inc.j2"
    )
    target.unlink()
    os.mkfifo(target)
    result = run_cli("render", cwd=ws)  # would block forever if the FIFO were opened
    assert result.code == 2
    expected = (
        "manifest/m.yml:8:7: releases.debian.12.templates_dir: template "
        "'templates/t/runtime.Dockerfile.j2' is not a regular file"
        if which == "template"
        else "templates/inc.j2:1:1: releases.debian.12.templates_dir: is not a regular file"
    )
    assert result.err.splitlines() == [expected]
