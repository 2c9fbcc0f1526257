"""`bakegen schema` gives editors the CLI's verdicts: check-jsonschema (what editors and CI
use) and `bakegen validate` accept the same good manifests and refuse the same bad ones."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from testing.helpers import ROOT, need_tool, run_cli
from tests.unit.test_schema import BAD, BASE, GOOD


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "manifest.schema.json"
    result = run_cli("schema", cwd=ROOT)
    assert result.code == 0
    path.write_text(result.out, encoding="utf-8")
    return path


def check_jsonschema(schema: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    tool = need_tool("check-jsonschema", "pip install -e '.[test]'")
    return subprocess.run(
        [tool, "--schemafile", str(schema), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_editors_accept_every_good_manifest(schema_file: Path) -> None:
    assert len(GOOD) >= 4
    result = check_jsonschema(schema_file, *GOOD)
    assert result.returncode == 0, result.stdout + result.stderr


def test_editors_and_the_cli_refuse_the_same_bad_manifests(
    schema_file: Path, tmp_path: Path
) -> None:
    base_ws = ROOT / "tests" / "corpus" / "_base"
    for name, (old, new) in BAD.items():
        ws = tmp_path / re.sub(r"\W+", "-", name)
        (ws / "manifest").mkdir(parents=True)
        (ws / "templates").symlink_to(base_ws / "templates")
        path = ws / "manifest" / "manifest.yml"
        path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
        editor = check_jsonschema(schema_file, path)
        assert editor.returncode == 1, (name, editor.stdout)
        cli = run_cli("validate", cwd=ws)
        assert cli.code == 2, (name, cli.err)


def test_editors_accept_every_signing_and_gates_key(schema_file: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "manifest").mkdir(parents=True)
    (ws / "templates").symlink_to(ROOT / "tests" / "corpus" / "_base" / "templates")
    path = ws / "manifest" / "manifest.yml"
    trust = (
        "signing: {tool: cosign, key: COSIGN_KEY_PEM, password: COSIGN_PW, tlog: false}\n"
        "gates: [{name: scan, run: scan $IMAGE_REF}, {name: size, run: 'true'}]\n"
        "release_types:\n  runtime:\n    gates: [{name: size, disabled: true}]\n"
    )
    text = BASE.replace(
        "packages:\n  app:\n",
        trust + "packages:\n  app:\n    signing: true\n    gates: [{name: own, run: 'true'}]\n",
        1,
    )
    assert "signing: true" in text
    path.write_text(text, encoding="utf-8")
    editor = check_jsonschema(schema_file, path)
    assert editor.returncode == 0, editor.stdout
    cli = run_cli("validate", cwd=ws)
    assert cli.code == 0, cli.err
