"""The manifest's `bake:` values as real `docker buildx bake --print` resolves them: every kind
of value (string, list, map, boolean, parsed entries), merged top level, then release type,
package and distro release."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen.pipeline import plan_workspace
from testing.conformance import expected_targets, printed_targets
from testing.helpers import bake_print, make_workspace, run_cli

pytestmark = pytest.mark.buildx

MANIFEST = """\
python_versions: ["3.12"]
platforms: [linux/amd64, linux/arm64]
labels: {vendor: Example}
bake:
  shm-size: 2g
  ulimits: [nofile=65536:65536]
  annotations: ["index:org.opencontainers.image.vendor=Example"]
  labels: {team: ml, tier: gold}
  args: {PIP_INDEX_URL: "https://pypi.example/simple", HTTP_PROXY: ""}
  pull: true
  network: host
  entitlements: [network.host]
  extra-hosts: {pypi.example: 10.0.0.7}
release_types:
  runtime:
    bake:
      description: "the runtime image: small, with an entrypoint"
      no-cache: true
      attest: ["type=sbom", "type=provenance,mode=min"]
packages:
  app:
    runtime: [debian, alpine]
    devel: [debian]
    bake:
      labels: {team: app}
      contexts: {wheels: ./wheels}
      no-cache-filter: [base]
releases:
  debian:
    "12":
      templates_dir: templates/debian
      base_image: "debian:bookworm-slim"
      add_to_tags: bookworm
      bake:
        shm-size: 4g
        pull: false
        ulimits: []
        call: build
  alpine:
    "3.21":
      templates_dir: templates/debian
      base_image: "alpine:3.21"
      add_to_tags: alpine
"""


@pytest.mark.parametrize("fmt", ["hcl", "json"])
def test_bake_values_resolve_as_planned(tmp_path: Path, fmt: str) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    (ws / "wheels").mkdir()
    result = run_cli("render", "--format", fmt, cwd=ws)
    assert result.code == 0, result.err
    plan = plan_workspace(ws)
    printed = printed_targets(bake_print(ws), plan)
    assert printed == expected_targets(plan, None, {})
    # The merge order, as bake resolves it: the distro release's values win over the
    # package's, the package's over the release type's and the top level's.
    debian = printed["app-runtime-debian12-py312"]
    alpine = printed["app-runtime-alpine3-21-py312"]
    assert (debian["shm-size"], alpine["shm-size"]) == ("4g", "2g")
    assert (debian["pull"], alpine["pull"]) == (False, True)
    assert "ulimits" not in debian
    assert alpine["ulimits"] == ["nofile=65536:65536"]
    assert debian["labels"]["team"] == "app"
    assert debian["labels"]["tier"] == "gold"
    assert debian["labels"]["vendor"] == "Example"
    assert debian["args"]["PYTHON_VERSION"] == "3.12"
    assert debian["contexts"] == {"base": "target:app-base-debian12-py312", "wheels": "./wheels"}
    assert debian["attest"] == [{"type": "sbom"}, {"type": "provenance", "mode": "min"}]
    assert "attest" not in printed["app-devel-debian12-py312"]
    assert debian["no-cache"] is True
    assert debian["extra-hosts"] == {"pypi.example": "10.0.0.7"}
