"""`bakegen ci github` against real tools: actionlint (node) and check-jsonschema on the generated
workflows, and a pull request's affected step and settings script run as the workflow runs them
(git, bash, bake --print)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bakegen.github.jobs import Options
from bakegen.github.scripts import BAKE_SETTINGS, script
from bakegen.github.workflow import workflow
from bakegen.pipeline import plan_manifest, plan_workspace, read_manifest
from testing.helpers import (
    ROOT,
    TOOLS,
    buildx,
    git,
    make_workspace,
    need_tool,
    run_cli,
    unavailable,
)
from testing.unit import plan_of, typed
from tests.unit.test_ci_github import EXAMPLE_DATA, big_data, jobs_of
from tests.unit.test_ci_github_settings import FULL_WORKFLOW
from tests.unit.test_ci_github_writes import MANIFEST, WORKFLOW

PLATFORMS = ["linux/amd64", "linux/arm64", "linux/ppc64le"]


ACTIONLINT_MODULE = TOOLS / "node_modules" / "@tktco" / "node-actionlint"


def bake_settings(env: dict[str, str], cwd: Path) -> dict[str, str]:
    """Run the build job's settings script as the job does, in `cwd`; its outputs `targets`
    and `verify`."""
    out = cwd / "github_output"
    out.write_text("", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", script(BAKE_SETTINGS)],
        env={**os.environ, "GITHUB_OUTPUT": str(out), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in out.read_text(encoding="utf-8").splitlines()[:2])


@pytest.mark.buildx
def test_a_pull_request_builds_exactly_what_affected_names(tmp_path: Path) -> None:
    """The check job's step and the build jobs' settings script, run as the workflow runs them
    on a pull request that edits one template: the images built are the affected ones."""
    buildx()
    ws = make_workspace(
        tmp_path, MANIFEST.replace("{runtime: [debian]}", "{runtime: [debian], devel: [debian]}")
    )
    assert run_cli("render", cwd=ws).code == 0
    assert run_cli("ci", "github", cwd=ws).code == 0
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "base")
    base = git(ws, "rev-parse", "HEAD").strip()
    template = ws / "templates" / "debian" / "devel.Dockerfile.j2"
    template.write_text(template.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert run_cli("render", cwd=ws).code == 0
    jobs = jobs_of((ws / WORKFLOW).read_text(encoding="utf-8"))
    step = next(s for s in jobs["check"]["steps"] if s.get("id") == "affected")
    out = tmp_path / "check_output"
    # `bakegen` on PATH is this tree's
    shim = tmp_path / "bin" / "bakegen"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bakegen "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    path = f"{shim.parent}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=ws,
        env={
            **os.environ,
            "PATH": path,
            "PYTHONPATH": str(ROOT),
            "BASE": base,
            "GITHUB_OUTPUT": str(out),
        },
        check=True,
        capture_output=True,
    )
    key, _, affected = out.read_text(encoding="utf-8").strip().partition("=")
    assert key == "targets"
    assert affected.split(",") == run_cli("affected", "--since", base, cwd=ws).out.split()
    built: set[str] = set()
    for name, job in jobs.items():
        if not name.startswith("build") or "!= 'pull_request'" in job["if"]:
            continue  # the jobs of pull requests only
        settings = next(s for s in job["steps"] if s.get("id") == "settings")
        for entry in job["strategy"]["matrix"]["include"]:
            env = {k: v for k, v in settings["env"].items() if "${{" not in v}
            env |= {"TARGETS": entry["targets"], "ONLY_AFFECTED": "true", "AFFECTED": affected}
            env |= {"STAGING": job["env"]["STAGING"], "PUSH": "false", "PATH": path}
            env |= {"DIGESTS_DIR": str(tmp_path / "digests"), "OCI_DIR": str(tmp_path / "oci")}
            env |= {"BUILT_DIR": str(tmp_path / "built")}
            env |= {"PYTHONPATH": str(ROOT)}
            built |= set(filter(None, bake_settings(env, ws)["targets"].split(",")))
    plan = plan_workspace(ws)
    devel = {i.target for i in plan.images if i.push and i.release_type == "devel"}
    assert built == devel
    assert len(devel) < len([i for i in plan.images if i.push])


def generated_workflows(tmp_path: Path) -> list[Path]:
    """The example's workflow, a cached one with docker/metadata-action pushing to ghcr.io with
    the workflow's token (its build jobs split by event) and a GPU smoke job, a big one, one of
    300 images (100 bases, 200 images FROM them: two waves a platform), and one setting every
    key of the manifest's `workflow:`."""
    out = []
    for name, data, options in (
        ("example", None, Options()),
        (
            "ci",
            {
                **EXAMPLE_DATA,
                "metadata_action": True,
                "cache": {"type": "registry", "ref": "ghcr.io/example/cache"},
                # every source the tag variables' step knows
                "tag_variables": {
                    "date": {"ci": "commit-date"},
                    "sha": {"ci": "short-sha"},
                    "full_sha": {"ci": "sha"},
                    "ref": {"ci": "ref-name"},
                },
            },
            Options(gpu_runner="ubuntu-24.04"),
        ),
        ("big", big_data(), Options()),
        ("300-images", big_data(packages=50, pythons=2), Options()),
        (
            "settings",
            {**EXAMPLE_DATA, "platforms": PLATFORMS, "workflow": FULL_WORKFLOW},
            Options(gpu_runner="ubuntu-24.04"),
        ),
    ):
        if data is None:
            m = read_manifest(ROOT)
            text = workflow(m, plan_manifest(m), options)
        else:
            text = workflow(typed(data), plan_of(data), options)
        path = tmp_path / f"{name}.yml"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    node = need_tool("node", "apt-get install nodejs npm, or run scripts/tools.sh actionlint")
    if not (ACTIONLINT_MODULE / "main.wasm").is_file():
        unavailable(f"actionlint not installed in {TOOLS}; run scripts/tools.sh actionlint")
    files = [str(p) for p in generated_workflows(tmp_path)]
    proc = subprocess.run(
        [node, str(ROOT / "scripts" / "actionlint.cjs"), *files],
        capture_output=True,
        text=True,
        env={**os.environ, "BAKEGEN_TOOLS": str(TOOLS)},
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_check_jsonschema_github_workflows(tmp_path: Path) -> None:
    tool = need_tool("check-jsonschema", "pip install -e '.[test]'")
    files = [str(p) for p in generated_workflows(tmp_path)]
    proc = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
