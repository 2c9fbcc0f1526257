"""The Azure ML inference example (examples/azureml-inference): its committed output is exactly
what renders, and it declares the CA bundle secret and its parent package (its images are built
and served in tests/e2e/test_azureml.py)."""

from __future__ import annotations

from testing.engine import CA_BUNDLE
from testing.helpers import ROOT, run_cli
from tests.e2e.test_azureml import BASE_TARGET, EXAMPLE


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
