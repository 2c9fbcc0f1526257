"""What a build id hashes of each bake target is what real `docker buildx bake --print` resolves
for it: its args and labels with the environment's values, its other attributes, its secrets'
ids, its named contexts, its Dockerfile; and no attribute bake prints that may change the bytes
is left out of the id."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.buildid import NOT_BUILT, REPLACED, Ids
from bakegen.pipeline import compile_workspace
from testing.helpers import ROOT, bake_print, minimal_workspace, run_cli
from testing.unit import RELEASE, manifest_data

pytestmark = pytest.mark.buildx

ENVS = [{}, {"VERSION": "1.2.0", "REVISION": "0123abc", "SOURCE": "https://example.invalid/x"}]
CACHE_ONLY = [{"type": "cacheonly"}]
BAKE = {"shm-size": "2g", "target": "final", "contexts": {"tools": "docker-image://example/t:1"}}


def small(tmp_path: Path) -> Path:
    release = {**RELEASE, "platforms": ["linux/amd64", "linux/arm64"]}
    data = manifest_data(
        releases={"debian": {"12": release}},
        secrets=[{"id": "token", "env": "TOKEN"}, {"id": "netrc", "src": "netrc.txt"}],
        labels={"org.example.team": "images"},
        bake=BAKE,
    )
    runtime = b"FROM base AS final\nCOPY --from=tools / /opt/tools\n"
    ws = minimal_workspace(tmp_path, yaml.safe_dump(data), runtime)
    (ws / "netrc.txt").write_text("machine example.invalid\n", encoding="utf-8")
    return ws


def workspace(name: str, tmp_path: Path) -> Path:
    if name == "small":
        return small(tmp_path)
    dest = tmp_path / name
    if name == "notebook-family":
        shutil.copytree(ROOT / "examples" / "notebook-family", dest)
        return dest
    dest.mkdir()
    shutil.copyfile(ROOT / "docker-bake.hcl.j2", dest / "docker-bake.hcl.j2")
    for folder in ("manifest", "templates"):
        shutil.copytree(ROOT / folder, dest / folder)
    return dest


def secret_ids(printed: dict[str, Any]) -> list[str]:
    """The ids of a printed target's secrets (objects, or `id=...,env=...` text)."""
    found = []
    for secret in printed.get("secret", []):
        if isinstance(secret, dict):
            found.append(str(secret["id"]))
        else:
            fields = dict(f.partition("=")[::2] for f in str(secret).split(","))
            found.append(fields["id"])
    return sorted(found)


@pytest.mark.parametrize("env", ENVS, ids=lambda e: ",".join(e) or "no-env")
@pytest.mark.parametrize("name", ["small", "notebook-family", "example"])
def test_the_id_hashes_what_bake_resolves(name: str, env: dict[str, str], tmp_path: Path) -> None:
    ws = workspace(name, tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    printed = bake_print(ws, env=env)["target"]
    compiled = compile_workspace(ws)
    ids = Ids(compiled, ws, env, {})
    for image in compiled.plan.images:
        bake = printed[image.target]
        for platform in image.platforms:
            document = ids.document(image.target, platform)
            attributes = document["attributes"]
            assert isinstance(attributes, dict)
            assert platform in bake["platforms"]
            built = {k: v for k, v in bake.items() if k not in NOT_BUILT | REPLACED}
            if "tags" not in bake and built.get("output") == CACHE_ONLY:
                del built["output"]  # bake's own for a target with no tags: none to export
            assert built == attributes, image.target
            assert document["secrets"] == secret_ids(bake)
            other = {k: v for k, v in bake.get("contexts", {}).items() if "target:" not in v}
            assert document["contexts"] == other
            dockerfile = (ws / bake["context"] / bake["dockerfile"]).read_bytes()
            inputs = document["inputs"]
            assert isinstance(inputs, dict)
            assert inputs["dockerfile"] == hashlib.sha256(dockerfile).hexdigest()
