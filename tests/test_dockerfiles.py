"""Generated Dockerfiles parse with BuildKit's own parser; templates fail loudly."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest

from bakegen.dockerfiles import env_quote
from tests.helpers import ROOT, copy_workspace, make_workspace, run_cli

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
        "templates/alpine/runtime.Dockerfile.j2:3:1: releases.alpine.3.14.templates_dir: "
        "template error: 'no_such_name' is undefined"
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
    (ws / "docker-bake.hcl.j2").write_text("# {{ marker }}\n# mine: {{ bake.targets | length }}\n")
    assert run_cli("render", cwd=ws).code == 0
    assert (ws / "docker-bake.hcl").read_text().splitlines()[1] == "# mine: 109"
