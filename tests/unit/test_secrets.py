"""Credentials stay in the environment: with a sentinel value in every variable the manifest names
as a credential or gate (registry `user`, `pwd`, `only_if`; secret `env`), no command prints one
and no file bakegen writes holds one; neither does `docker buildx bake --print`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bakegen.load.merge import load
from testing.helpers import ROOT, run_cli, tree

EXTRA = """
secrets:
  - id: pip-index
    env: PIP_INDEX_TOKEN
  - id: netrc
    env: NETRC_CONTENT
"""
EXTRA_REGISTRY = """  quay.io:
    only_if: QUAY_ENABLED
    user: QUAY_ROBOT
    pwd: QUAY_ROBOT_TOKEN
    registry:
      yatai-service: quay.io/example/yatai-service
"""


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copytree(ROOT / "templates", ws / "templates")
    text = (ROOT / "manifest" / "manifest.yml").read_text(encoding="utf-8")
    text = text.replace("\ncuda_dependencies:", EXTRA_REGISTRY + "\ncuda_dependencies:", 1)
    (ws / "manifest").mkdir()
    (ws / "manifest" / "manifest.yml").write_text(text + EXTRA, encoding="utf-8")
    return ws


def credential_variables(ws: Path) -> list[str]:
    """Every variable the manifest names as a credential, a gate or a secret."""
    data = load(ws / "manifest", ws).data
    names = {
        spec[key]
        for spec in data["repository"].values()
        for key in ("only_if", "user", "pwd")
        if spec.get(key)
    }
    names.update(s["env"] for s in data.get("secrets", []) if s.get("env"))
    return sorted(names)


def sentinels(ws: Path) -> dict[str, str]:
    variables = credential_variables(ws)
    assert {
        "HUB_USERNAME",
        "HUB_PASSWORD",
        "GHCR_USER",
        "GHCR_TOKEN",
        "QUAY_ENABLED",
        "QUAY_ROBOT",
        "QUAY_ROBOT_TOKEN",
        "PIP_INDEX_TOKEN",
        "NETRC_CONTENT",
    } == set(variables)
    return {name: f"s3ntinel-{name.lower()}-9f2c7e" for name in variables}


def assert_no_sentinel(where: str, text: str | bytes, values: dict[str, str]) -> None:
    data = text.encode() if isinstance(text, str) else text
    for name, value in values.items():
        assert value.encode() not in data, f"{name}'s value in {where}"
        assert value.encode().upper() not in data.upper(), f"{name}'s value in {where}"


COMMANDS = [
    ["render"],
    ["render", "--check"],
    ["render", "--format", "json"],
    ["render", "--format", "json", "--check"],
    ["validate"],
    ["list"],
    ["list", "--json"],
]


def test_no_credential_reaches_output_or_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace(tmp_path)
    values = sentinels(ws)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VERSION", "1.2.3")
    outputs: dict[str, str] = {}
    for args in COMMANDS:
        result = run_cli(*args, cwd=ws)
        assert result.code == 0, (args, result.err)
        outputs[" ".join(args)] = result.out + result.err
        for rel, data in tree(ws).items():
            assert_no_sentinel(f"{rel} after {args}", data, values)
    for command, text in outputs.items():
        assert_no_sentinel(command, text, values)
    # The variables were read: gates are on, so gated registries' tags are listed.
    rows = json.loads(run_cli("list", "--json", cwd=ws).out)
    tags = {tag for row in rows for tag in row["tags"]}
    assert any(t.startswith("docker.io/example/model-server:1.2.3-") for t in tags)
    assert any(t.startswith("quay.io/example/yatai-service:1.2.3-") for t in tags)
    bake = (ws / "docker-bake.json").read_text(encoding="utf-8")
    assert "HUB_PASSWORD" in bake
    assert "QUAY_ENABLED" in bake
    assert "PIP_INDEX_TOKEN" in bake
