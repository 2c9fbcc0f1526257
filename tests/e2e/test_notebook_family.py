"""The notebook-style family (examples/notebook-family) built for real on amd64: a chain of five
images, each from its own context folder, a CUDA variant built FROM a mid-chain image, and an
amd64-only image, all in one bake run of the three leaves (their parents come in through
`target:` contexts); then the verify group on what was built."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.engine import bake, engine_env, inspect, need_base_image, remove_images, run
from testing.helpers import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "notebook-family"
CHAIN = ["foundation", "base-notebook", "minimal-notebook", "scipy-notebook"]
ALIASES = ("python-3.11", "2025-01-31", "2025-01-31-0123abc")  # with DATE and SHA set
LEAVES = ["pytorch-notebook", "pytorch-notebook-cuda12", "datascience-notebook"]


def target(package: str) -> str:
    return f"{package}-notebook-debian12-py311"


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    return engine_env()


@pytest.fixture(scope="module")
def built(
    engine: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Image of each package (its `:<version>` tag), built in one bake run of the leaves."""
    need_base_image(engine, "debian:bookworm-slim", "linux/amd64")
    ws = tmp_path_factory.mktemp("family") / "notebook-family"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("generated", "docker-bake.hcl"))
    assert run_cli("render", cwd=ws).code == 0
    version = "e2e-" + uuid.uuid4().hex[:10]
    tags = {
        p: f"{p.removesuffix('-cuda12')}:{'cuda12-' if p.endswith('cuda12') else ''}{version}"
        for p in CHAIN + LEAVES
    }
    env = {**engine, "VERSION": version, "DATE": "2025-01-31", "SHA": "0123abc"}
    try:
        out = bake(ws, env, [target(p) for p in LEAVES], extra=["--set", "*.platform=linux/amd64"])
        for parent in CHAIN:  # no target of their own: built once, through target: contexts
            assert f"[{target(parent)} " in out.stdout + out.stderr, parent
        tags["workspace"] = str(ws)
        yield tags
    finally:
        remove_images(engine, every_tag(tags))


def every_tag(tags: dict[str, str]) -> list[str]:
    """The tags the build gave: each image's `{version}` tag and its aliases' (the same prefix)."""
    out = []
    for package, tag in tags.items():
        if package == "workspace":
            continue
        repo, version = tag.split(":")
        prefix = version[: -len(version.split("-", 1)[-1])] if version.startswith("cuda12-") else ""
        out += [tag, *(f"{repo}:{prefix}{a}" for a in ALIASES)]
    return out


def cat(engine: dict[str, str], image: str, path: str) -> str:
    return run(["docker", "run", "--rm", "--entrypoint", "cat", image, path], engine).stdout


def test_each_image_is_built_from_its_parent_in_the_chain(
    built: dict[str, str], engine: dict[str, str]
) -> None:
    chain = cat(engine, built["pytorch-notebook"], "/opt/notebook/chain.txt").split()
    assert chain == [*CHAIN, "pytorch-notebook"]
    science = cat(engine, built["datascience-notebook"], "/opt/notebook/chain.txt").split()
    assert science == [*CHAIN, "datascience-notebook"]


def test_the_cuda_variant_is_built_from_the_scipy_image_into_the_same_repository(
    built: dict[str, str], engine: dict[str, str]
) -> None:
    assert built["pytorch-notebook-cuda12"].startswith("pytorch-notebook:cuda12-")
    chain = cat(engine, built["pytorch-notebook-cuda12"], "/opt/notebook/chain.txt").split()
    assert chain == [*CHAIN, "pytorch-notebook-cuda12"]  # FROM scipy, not FROM pytorch-notebook
    env = run(
        ["docker", "run", "--rm", "--entrypoint", "env", built["pytorch-notebook-cuda12"]], engine
    )
    assert "CUDA_MAJOR=12" in env.stdout.split()


def test_each_context_folder_and_its_dockerignore_decide_what_an_image_holds(
    built: dict[str, str], engine: dict[str, str]
) -> None:
    listing = run(
        ["docker", "run", "--rm", "--entrypoint", "ls", built["pytorch-notebook"], "/opt/notebook"],
        engine,
    ).stdout.split()
    # foundation's layers/ minus its .dockerignore'd draft, and each image's own file
    assert sorted(listing) == sorted(
        [
            "chain.txt",
            "foundation.txt",
            "torch.txt",
            "base-notebook.txt",
            "minimal-notebook.txt",
            "scipy-notebook.txt",
            "pytorch-notebook.txt",
        ]
    )


def test_the_verify_group_passes_on_the_family(
    built: dict[str, str], engine: dict[str, str]
) -> None:
    ws = Path(built["workspace"])
    verify = [f"{target(p)}-verify" for p in CHAIN + LEAVES]
    out = bake(
        ws,
        {**engine, "VERSION": built["foundation"].split(":")[1]},
        verify,
        extra=["--set", "*.platform=linux/amd64"],
        load=False,
    )
    said = out.stdout + out.stderr  # bake exits 0 (checked): every check passed, now or cached
    for check in verify:
        assert f"[{check} " in said, check


def test_the_date_and_sha_tags_are_given_with_the_variant_prefix(
    built: dict[str, str], engine: dict[str, str]
) -> None:
    tags = inspect(engine, built["pytorch-notebook-cuda12"])["RepoTags"]
    assert {
        "pytorch-notebook:cuda12-2025-01-31",
        "pytorch-notebook:cuda12-2025-01-31-0123abc",
    } <= set(tags)
    assert "pytorch-notebook:2025-01-31" in inspect(engine, built["pytorch-notebook"])["RepoTags"]
