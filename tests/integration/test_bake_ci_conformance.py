"""The CI settings as real `docker buildx bake --print` resolves them: cache scopes per target
and platform, attestations, and docker/metadata-action's target with bakegen's tags kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bakegen.emit.bakefile import METADATA_TARGET
from bakegen.pipeline import plan_workspace
from testing.conformance import expected_targets, printed_targets
from testing.helpers import bake_print, make_workspace, run_cli

pytestmark = pytest.mark.buildx

MANIFEST = """\
python_versions: ["3.12"]
platforms: [linux/amd64, linux/arm64]
{ci}
repository:
  ghcr:
    only_if: GHCR_TOKEN
    registry: {{app: ghcr.io/example/app}}
packages:
  app: {{runtime: [debian], devel: [debian]}}
releases:
  debian:
    "12": {{templates_dir: templates/debian, base_image: "debian:bookworm-slim", add_to_tags: bookworm}}
"""

CI_SETTINGS = {
    "gha": "cache: {type: gha}\nattestations: {sbom: true, provenance: max}",
    "registry": "cache: {type: registry, ref: ghcr.io/example/cache}\nmetadata_action: true",
    "local": "cache: {type: local, dir: .cache/bake}\nattestations: {provenance: min}",
}
# What docker/metadata-action's bake file gives (a stand-in: its shape, not its values).
METADATA = {
    "target": {
        METADATA_TARGET: {
            "tags": ["ghcr.io/example/app:pr-7"],
            "labels": {"org.opencontainers.image.revision": "abc123", "from.metadata": "1"},
            "annotations": ["index:org.opencontainers.image.revision=abc123"],
            "args": {"DOCKER_META_VERSION": "pr-7"},
        }
    }
}


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("kind", sorted(CI_SETTINGS))
@pytest.mark.parametrize(
    "env", [{}, {"CACHE_SUFFIX": "-linux-arm64", "GHCR_TOKEN": "x"}], ids=["laptop", "per-platform"]
)
def test_ci_settings_resolve_as_planned(
    tmp_path: Path, fmt: str, kind: str, env: dict[str, str]
) -> None:
    ws = make_workspace(tmp_path, MANIFEST.format(ci=CI_SETTINGS[kind]))
    assert run_cli("render", "--format", fmt, cwd=ws).code == 0
    plan = plan_workspace(ws)
    printed = printed_targets(bake_print(ws, env=env))
    assert printed == expected_targets(plan, None, env)
    runtime = printed["app-runtime-debian12-py312"]
    suffix = env.get("CACHE_SUFFIX", "")
    scopes = [e.get("scope") or e.get("ref") or e.get("src") for e in runtime["cache-from"]]
    assert [s.endswith(f"runtime-debian12-py312{suffix}") for s in scopes] == [True, False]
    assert scopes[1].endswith(f"base-debian12-py312{suffix}")
    assert runtime["cache-to"][0]["mode"] == "max"


def test_every_target_writes_its_own_scope(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST.format(ci=CI_SETTINGS["gha"]))
    assert run_cli("render", cwd=ws).code == 0
    printed = bake_print(ws, env={"CACHE_SUFFIX": "-linux-amd64"})["target"]
    written = [t["cache-to"][0]["scope"] for t in printed.values() if "cache-to" in t]
    assert len(written) == len(set(written)) == 3


def test_metadata_action_target_keeps_bakegens_tags(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST.format(ci="metadata_action: true"))
    assert run_cli("render", cwd=ws).code == 0
    # Without metadata-action's file the bake file still resolves (its target is declared).
    alone = bake_print(ws)["target"]["app-runtime-debian12-py312"]
    assert alone["tags"] == ["app:devel-python3.12-bookworm-runtime"]
    (ws / "meta.json").write_text(json.dumps(METADATA), encoding="utf-8")
    printed = bake_print(ws, env={"GHCR_TOKEN": "x"}, files=["docker-bake.hcl", "meta.json"])[
        "target"
    ]
    runtime = printed["app-runtime-debian12-py312"]
    assert runtime["tags"] == ["ghcr.io/example/app:devel-python3.12-bookworm-runtime"]
    assert runtime["labels"]["from.metadata"] == "1"
    assert runtime["labels"]["org.opencontainers.image.revision"] == "abc123"
    assert runtime["annotations"] == ["index:org.opencontainers.image.revision=abc123"]
    assert runtime["args"]["DOCKER_META_VERSION"] == "pr-7"
    assert runtime["args"]["PYTHON_VERSION"] == "3.12"
    base = printed["app-base-debian12-py312"]
    assert "tags" not in base
    assert "from.metadata" not in base["labels"]
