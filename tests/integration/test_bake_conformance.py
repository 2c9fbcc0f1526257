"""Real `docker buildx bake --print` on rendered workspaces resolves to exactly bakegen's plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bakegen.pipeline import plan_workspace
from testing.conformance import expected_targets, printed_targets
from testing.helpers import ROOT, bake_print, copy_workspace, run_cli

pytestmark = pytest.mark.buildx

ENVS = [
    {},
    {"VERSION": "0.13.1"},
    {"VERSION": "2.0.0", "HUB_PASSWORD": "x"},
    {"HUB_PASSWORD": "x", "GHCR_TOKEN": "y"},
    {"DATE": "2025-01-31", "SHA": "0123abc", "HUB_TOKEN": "x"},  # the family's tag variables
    {"DATE": "2025-01-31"},  # a tag naming SHA too is left out
]


def example_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "example"
    dest.mkdir()
    shutil.copyfile(ROOT / "docker-bake.hcl.j2", dest / "docker-bake.hcl.j2")
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


@pytest.fixture(params=["example", "seedlike", "notebook-family"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _copy(request.param, tmp_path)


@pytest.fixture(params=["example", "seedlike"])
def cuda_workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _copy(request.param, tmp_path)


def _copy(name: str, tmp_path: Path) -> Path:
    if name == "example":
        return example_copy(tmp_path)
    if name == "notebook-family":  # variants, per-image contexts and platforms
        dest = tmp_path / "notebook-family"
        shutil.copytree(ROOT / "examples" / "notebook-family", dest)
        return dest
    return copy_workspace("seedlike", tmp_path)


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("env", ENVS, ids=lambda e: ",".join(e) or "no-env")
def test_default_group_matches_plan(workspace: Path, fmt: str, env: dict[str, str]) -> None:
    assert run_cli("render", "--format", fmt, cwd=workspace).code == 0
    plan = plan_workspace(workspace)
    assert printed_targets(bake_print(workspace, env=env)) == expected_targets(plan, None, env)


def test_every_group_matches_plan(workspace: Path) -> None:
    assert run_cli("render", cwd=workspace).code == 0
    plan = plan_workspace(workspace)
    env = {"VERSION": "9.9", "HUB_PASSWORD": "x"}
    for group in plan.groups:
        printed = bake_print(workspace, group.name, env=env)
        assert printed_targets(printed) == expected_targets(plan, group.name, env), group.name


def test_cudnn_group_lists_only_cudnn_images_and_their_parents(cuda_workspace: Path) -> None:
    workspace = cuda_workspace
    assert run_cli("render", cwd=workspace).code == 0
    printed = bake_print(workspace, "cudnn")
    releases = {
        name.split("-")[2] if name.startswith("model-") else "" for name in printed["target"]
    }
    assert releases == {"cudnn", "base"}
    bases = [t for n, t in printed["target"].items() if "-base-" in n]
    assert bases
    assert all(t.get("output") == [{"type": "cacheonly"}] for t in bases)
