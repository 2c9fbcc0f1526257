"""The example workspaces (the repository root, examples/azureml-inference): their committed output
is exactly what renders.

The committed generated/ trees and docker-bake.hcl files are the golden files: review their diff when
they change, then commit them with the change that caused it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from testing.engine import CA_BUNDLE
from testing.helpers import ROOT, run_cli, tree
from tests.e2e.test_azureml import BASE_TARGET, EXAMPLE


def test_committed_output_is_up_to_date() -> None:
    result = run_cli("render", "--check", cwd=ROOT)
    assert result.code == 0, f"run `bakegen render` and review the diff:\n{result.out}"


def test_render_is_independent_of_working_directory(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(ROOT / "docker-bake.hcl.j2", ws / "docker-bake.hcl.j2")
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, ws / name)
    assert run_cli("render", "-C", str(ws), cwd=tmp_path).code == 0
    expected = {k: v for k, v in tree(ROOT).items() if k.startswith("generated/")}
    got = tree(ws)
    assert {k: v for k, v in got.items() if k.startswith("generated/")} == expected
    assert got["docker-bake.hcl"] == (ROOT / "docker-bake.hcl").read_bytes()


def test_azureml_committed_output_is_up_to_date() -> None:
    """examples/azureml-inference/generated/ and docker-bake.hcl are golden files."""
    result = run_cli("render", "--check", "-C", str(EXAMPLE), cwd=ROOT)
    assert result.code == 0, f"run `bakegen render -C {EXAMPLE}` and review the diff:\n{result.out}"


def test_azureml_bake_file_declares_the_ca_bundle_secret_and_the_parent_package() -> None:
    text = (EXAMPLE / "docker-bake.hcl").read_text()
    assert f'secret  = ["id=ca-bundle,src={CA_BUNDLE}"]' in text
    assert f'base = "target:{BASE_TARGET}"' in text
    for package in ("inference-base", "sklearn-inference"):
        dockerfile = (
            EXAMPLE / "generated" / package / "debian12" / "runtime" / "Dockerfile"
        ).read_text()
        assert "--mount=type=secret,id=ca-bundle,required=true" in dockerfile
        assert "PIP_CERT=/run/secrets/ca-bundle pip install" in dockerfile
