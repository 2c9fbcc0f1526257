"""No credential in a real process's output or errors, nor in what `docker buildx bake --print`
shows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from testing.helpers import ROOT, bake_print, run_cli, run_process, tree
from tests.unit.test_secrets import assert_no_sentinel, sentinels, workspace


def test_no_credential_in_a_real_process_or_its_errors(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    values = sentinels(ws)
    env = {**os.environ, **values, "PYTHONPATH": str(ROOT), "BAKEGEN_DEBUG": ""}
    for args in (["render"], ["list", "--json"]):
        proc = run_process(*args, cwd=ws, env=env)
        assert proc.returncode == 0, proc.stderr
        assert_no_sentinel(" ".join(args), proc.stdout + proc.stderr, values)
    manifest = ws / "manifest" / "manifest.yml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("only_if: HUB_PASSWORD", "only_if: HUB-PW"),
        encoding="utf-8",
    )
    proc = run_process("render", cwd=ws, env=env)
    assert proc.returncode == 2
    assert "'HUB-PW' is not an environment variable name" in proc.stderr
    assert_no_sentinel("a failed render", proc.stdout + proc.stderr, values)
    for rel, data in tree(ws).items():
        assert_no_sentinel(rel, data, values)


@pytest.mark.buildx
@pytest.mark.parametrize("fmt", ["hcl", "json"])
def test_bake_print_shows_no_credential(fmt: str, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    values = sentinels(ws)
    assert run_cli("render", "--format", fmt, cwd=ws).code == 0
    printed = bake_print(ws, env=values)
    text = json.dumps(printed)
    assert_no_sentinel("bake --print", text, values)
    assert "docker.io/example/model-server" in text  # the gates were on
    for name, target in printed["target"].items():
        if not name.endswith("-verify"):
            assert {"id": "pip-index", "env": "PIP_INDEX_TOKEN"} in target["secret"], name
