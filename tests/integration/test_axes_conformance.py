"""Real `docker buildx bake --print` of a workspace using tag variables, build arguments by axis
value and CUDA from pip wheels resolves to exactly bakegen's plan, whatever variables are set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen.pipeline import plan_workspace
from testing.conformance import expected_targets, printed_targets
from testing.helpers import bake_print, copy_workspace, run_cli

pytestmark = pytest.mark.buildx

# Every variable explicitly, so the environment bake runs in sets none of them.
UNSET = {"HUB_TOKEN": "", "DATE": "", "SHA": "", "VERSION": "1.0"}
ENVS = [
    {},
    {"DATE": "2025-01-31"},
    {"DATE": "2025-01-31", "SHA": "0123abc"},
    {"HUB_TOKEN": "x", "SHA": "0123abc"},
    {"HUB_TOKEN": "x", "DATE": "2025-01-31", "SHA": "0123abc", "VERSION": "2.0"},
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_workspace("axes", tmp_path)


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("env", ENVS, ids=lambda e: ",".join(e) or "no-env")
def test_every_group_matches_the_plan(workspace: Path, fmt: str, env: dict[str, str]) -> None:
    assert run_cli("render", "--format", fmt, cwd=workspace).code == 0
    plan = plan_workspace(workspace)
    env = {**UNSET, **env}
    for group in ("default", "verify"):
        printed = bake_print(workspace, group, env=env)
        assert printed_targets(printed) == expected_targets(plan, group, env), group


def test_the_full_python_version_tags_and_both_tag_variables(workspace: Path) -> None:
    assert run_cli("render", cwd=workspace).code == 0
    env = {**UNSET, "HUB_TOKEN": "x", "DATE": "2025-01-31", "SHA": "0123abc"}
    printed = bake_print(workspace, env=env)["target"]
    assert printed["python-runtime-debian12-py313"]["tags"] == [
        "docker.io/example/python:3.13.1-bookworm",
        "docker.io/example/python:3.13-bookworm-2025-01-31-0123abc",
    ]
    assert printed["python-runtime-debian12-py313"]["args"]["PYTHON_FULL_VERSION"] == "3.13.1"
    cuda = printed["notebook-cudnn-ubuntu24-04-py312-cuda12-6"]
    assert cuda["args"]["TORCH_INDEX_URL"].endswith("/cu126")
    assert "docker.io/example/notebook:1.0-2025-01-31-0123abc-python3.12-cuda12.6" in cuda["tags"]
    without = bake_print(workspace, env={**env, "SHA": ""})["target"]
    assert without["python-runtime-debian12-py313"]["tags"] == [
        "docker.io/example/python:3.13.1-bookworm"
    ]


def test_the_official_python_port_matches_the_plan(tmp_path: Path) -> None:
    """One package for every Python version (tests/workspaces/python-official), as bake sees it."""
    workspace = copy_workspace("python-official", tmp_path)
    assert run_cli("render", cwd=workspace).code == 0
    plan = plan_workspace(workspace)
    printed = bake_print(workspace, env={"VERSION": "1"})
    assert printed_targets(printed) == expected_targets(plan, None, {"VERSION": "1"})
    assert printed["target"]["python-runtime-debian12-py314"]["args"]["FULL"] == "3.14.0rc1"
