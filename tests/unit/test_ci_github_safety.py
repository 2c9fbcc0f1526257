"""`bakegen ci github` does no harm: the least permissions each job needs, and a workflow
never written where bakegen reads or writes otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.github.jobs import Options
from bakegen.github.workflow import workflow
from bakegen.layout import MARKER
from testing.helpers import make_workspace, run_cli
from testing.unit import plan_of, typed
from tests.unit.test_ci_github import (
    EXAMPLE_DATA,
    assert_each_image_once,
    runs_on,
)
from tests.unit.test_ci_github_writes import MANIFEST, WORKFLOW


def _registries(ghcr: str, hub: bool) -> dict[str, Any]:
    """`repository` with a ghcr.io registry logging in with the workflow's token ("token"),
    with secrets of its own ("secrets") or none (""), and a Docker Hub one (`hub`)."""
    found: dict[str, Any] = {}
    if ghcr:
        own = {"user": "GHCR_USER", "pwd": "GHCR_PAT"} if ghcr == "secrets" else {}
        found["ghcr"] = {"only_if": "GHCR_ON", **own, "registry": {"app": "ghcr.io/example/app"}}
    if hub:
        found["hub"] = {"user": "HUB_USER", "pwd": "HUB_PWD", "registry": {"app": "example/app"}}
    return found


@pytest.mark.parametrize("ghcr", ["token", "secrets", ""])
@pytest.mark.parametrize("hub", [True, False])
@pytest.mark.parametrize("gpu", [None, "gpu-l4"])
def test_packages_write_only_where_the_workflows_token_pushes(
    ghcr: str, hub: bool, gpu: str | None
) -> None:
    """Least privilege: `packages: write` exactly on the jobs that log in to ghcr.io with
    GITHUB_TOKEN and never run on a pull request (which runs its own Dockerfiles); the smoke
    job, pulling with that token, may read packages; every other job has the workflow's
    `contents: read`. Every image is built once per platform on either event."""
    data = {**EXAMPLE_DATA, "repository": _registries(ghcr, hub) or None}
    data = {k: v for k, v in data.items() if v is not None}
    plan = plan_of(data)
    document = yaml.safe_load(workflow(typed(data), plan, Options(gpu_runner=gpu)))
    assert document["permissions"] == {"contents": "read"}
    jobs = document["jobs"]
    assert_each_image_once(plan, jobs)
    for name, job in jobs.items():
        token = any(
            "secrets.GITHUB_TOKEN" in str(s.get("with", {}).get("password")) for s in job["steps"]
        )
        # with no registry at all, the staging repository is the GitHub registry's
        by_token = ghcr == "token" or not (ghcr or hub)
        assert token == (by_token and runs_on(job, "push") and name != "check"), name
        granted = job.get("permissions", {}).get("packages")
        if runs_on(job, "pull_request"):
            assert granted is None, name
        elif token:
            assert granted == ("read" if name == "smoke" else "write"), name
        else:
            assert granted is None, name


TAKEN = [
    ("generated/ci.yml", "`bakegen render` owns generated/"),
    ("generated", "`bakegen render` owns generated/"),
    ("./.github/../generated/x/ci.yml", "`bakegen render` owns generated/"),
    ("gen/ci.yml", "`bakegen render` owns generated/"),  # a symlink to generated/
    ("docker-bake.hcl", "`bakegen render` writes docker-bake.hcl"),
    ("docker-bake.json", "`bakegen render` writes docker-bake.json"),
    ("docker-bake.hcl.j2", "docker-bake.hcl.j2 is the bake template every render reads"),
    ("manifest.lock", "manifest.lock is the lock file"),
    ("manifest", "manifest/ is the manifest folder"),
    ("manifest/ci.yml", "manifest/ is the manifest folder"),
    ("templates/debian/runtime.Dockerfile.j2", "bakegen reads templates from templates/debian/"),
    ("templates/common/ci.yml", "bakegen reads templates from templates/"),
]


@pytest.mark.parametrize(("output", "what"), TAKEN, ids=[o for o, _ in TAKEN])
def test_the_workflow_is_never_written_where_bakegen_reads_or_writes(
    tmp_path: Path, output: str, what: str
) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "gen").symlink_to("generated")
    before = tree_of(ws)
    for check in ([], ["--check"]):
        result = run_cli("ci", "github", "--output", output, *check, cwd=ws)
        assert result.code == 2, result
        assert result.err.startswith(f"--output {output}: {what}"), result.err
        assert result.err.endswith("; write the workflow elsewhere, e.g. " + WORKFLOW + "\n")
        assert len(result.err.splitlines()) == 1
        assert tree_of(ws) == before
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_a_manifest_file_and_its_lock_are_refused_as_outputs(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    (ws / "manifest" / "manifest.yml").rename(ws / "images.yml")
    for output, what in (("images.yml", "the manifest"), ("images.lock", "the lock file")):
        result = run_cli("-m", "images.yml", "ci", "github", "-o", output, cwd=ws)
        assert result.code == 2
        assert result.err.startswith(f"--output {output}: {output} is {what}"), result.err


@pytest.mark.parametrize("output", ["ci/bakegen.yml", "generated-ci.yml", "templates.yml"])
def test_other_outputs_are_written(tmp_path: Path, output: str) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    result = run_cli("ci", "github", "--output", output, cwd=ws)
    assert result.code == 0, result.err
    assert (ws / output).read_text(encoding="utf-8").startswith(f"# {MARKER}\n")


def tree_of(ws: Path) -> dict[str, bytes]:
    return {
        p.relative_to(ws).as_posix(): p.read_bytes()
        for p in sorted(ws.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }
