"""`bakegen ci github`: the workflow's structure from the plan, and its writes.

Structural tests run in memory on plans; the write tests on temporary workspaces (the linters
and the scripts the jobs run: tests/integration/test_ci_github_tools.py)."""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.github.jobs import DEFAULT_RUNNERS, MATRIX_LIMIT, Options, build_jobs
from bakegen.github.scripts import BAKE_SETTINGS, EXPORT_DIGESTS, MERGE, START, script
from bakegen.github.workflow import workflow
from bakegen.layout import MARKER
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.plan.records import Plan
from testing.helpers import ROOT, make_workspace, run_cli
from testing.unit import RELEASE, manifest_data, plan_of, typed

WORKFLOW = ".github/workflows/bakegen.yml"


def jobs_of(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    jobs: dict[str, Any] = document["jobs"]
    return jobs


NOT_PR = "github.event_name != 'pull_request'"
IS_PR = "github.event_name == 'pull_request'"
EVENTS = ("push", "pull_request")


def runs_on(job: dict[str, Any], event: str) -> bool:
    """Whether `job` runs on `event` (push or pull_request), as far as its `if` says."""
    gate = job.get("if", "")
    return (NOT_PR not in gate) if event == "pull_request" else (IS_PR not in gate)


def built(jobs: dict[str, Any], event: str = "push") -> Counter[tuple[str, str]]:
    """(target, platform) -> how many build jobs build it on `event`."""
    found: Counter[tuple[str, str]] = Counter()
    for name, job in jobs.items():
        if name.startswith("build") and runs_on(job, event):
            for entry in job["strategy"]["matrix"]["include"]:
                for target in entry["targets"].split(","):
                    found[(target, entry["platform"])] += 1
    return found


def merged(jobs: dict[str, Any]) -> Counter[tuple[str, tuple[str, ...]]]:
    found: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for name, job in jobs.items():
        if name.startswith("merge"):
            for entry in job["strategy"]["matrix"]["include"]:
                for item in entry["images"].split():
                    target, _, platforms = item.partition("=")
                    found[(target, tuple(platforms.split(",")))] += 1
    return found


def assert_each_image_once(plan: Plan, jobs: dict[str, Any]) -> None:
    pushed = [i for i in plan.images if i.push]
    for event in EVENTS:
        once = Counter({(i.target, p): 1 for i in pushed for p in i.platforms})
        assert built(jobs, event) == once, event
    assert merged(jobs) == Counter({(i.target, i.platforms): 1 for i in pushed})
    for name, job in jobs.items():
        if "strategy" in job:
            assert 0 < len(job["strategy"]["matrix"]["include"]) <= MATRIX_LIMIT, name
    builds = [n for n, job in jobs.items() if n.startswith("build") and runs_on(job, "push")]
    for name, job in jobs.items():
        if name.startswith("merge"):
            assert job["needs"] == ["check", *builds]


EXAMPLE_DATA = manifest_data(
    platforms=["linux/amd64", "linux/arm64"],
    packages={"app": {"runtime": ["debian"], "devel": ["debian"]}},
    repository={
        "hub": {
            "only_if": "HUB_PASSWORD",
            "user": "HUB_USERNAME",
            "pwd": "HUB_PASSWORD",
            "registry": {"app": "docker.io/example/app"},
        },
        "ghcr": {"only_if": "GHCR_ON", "registry": {"app": "ghcr.io/example/app"}},
    },
    cache={"type": "gha"},
)


def test_every_image_is_built_once_per_platform_and_merged_once() -> None:
    plan = plan_of(EXAMPLE_DATA)
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan))
    assert_each_image_once(plan, jobs)
    runners = {e["platform"]: e["runner"] for e in jobs["build"]["strategy"]["matrix"]["include"]}
    assert runners == DEFAULT_RUNNERS
    assert jobs["build"]["needs"] == "check"


def test_the_example_workspace() -> None:
    typed_example = read_manifest(ROOT)
    plan = plan_manifest(typed_example)
    jobs = jobs_of(workflow(typed_example, plan))
    assert_each_image_once(plan, jobs)
    assert set(jobs) == {"check", "build", "merge"}  # no ghcr.io: one build job for both events


def test_the_python_steps_run_the_script_files_from_their_marker_line() -> None:
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan_of(EXAMPLE_DATA)))
    ran = {
        step["name"]: step["run"]
        for job in ("build", "merge")
        for step in jobs[job]["steps"]
        if step.get("shell") == "python"
    }
    folder = ROOT / "bakegen" / "resources" / "github"
    files = {
        name: (folder / f"{name}.py").read_text(encoding="utf-8")
        for name in (BAKE_SETTINGS, EXPORT_DIGESTS, MERGE)
    }
    assert sorted(ran.values()) == sorted(text.split(START, 1)[1] for text in files.values())
    for name, text in files.items():
        assert text.count(START) == 1, name
        assert script(name).startswith("import "), name
        compile(text, name, "exec")  # one file, valid Python as a whole


def test_pull_requests_build_without_logins_or_pushes() -> None:
    plan = plan_of(EXAMPLE_DATA)
    text = workflow(typed(EXAMPLE_DATA), plan)
    document = yaml.safe_load(text)
    triggers = document[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}
    build, pull_request = document["jobs"]["build"], document["jobs"]["build-pr"]
    assert build["if"] == "${{ github.event_name != 'pull_request' }}"
    assert pull_request["if"] == "${{ github.event_name == 'pull_request' }}"
    assert build["strategy"] == pull_request["strategy"]
    assert build["env"]["PUSH"] == "${{ github.event_name != 'pull_request' }}"
    logins = [s for s in build["steps"] if "login-action" in s.get("uses", "")]
    assert [s["if"] for s in logins] == [
        "${{ github.event_name != 'pull_request' && env.GHCR_ON != '' }}",
        "${{ github.event_name != 'pull_request' && env.HUB_PASSWORD != '' }}",
    ]
    ghcr, hub = logins
    assert ghcr["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    assert hub["with"] == {
        "registry": "docker.io",
        "username": "${{ env.HUB_USERNAME }}",
        "password": "${{ env.HUB_PASSWORD }}",
    }
    assert build["env"]["HUB_PASSWORD"] == "${{ secrets.HUB_PASSWORD }}"
    uploads = [s for s in build["steps"] if "upload-artifact" in s.get("uses", "")]
    assert [s["if"] for s in uploads] == ["${{ github.event_name != 'pull_request' }}"]
    pr_uses = [s.get("uses", "") for s in pull_request["steps"]]
    assert not [u for u in pr_uses if "login-action" in u or "upload-artifact" in u]
    merge = document["jobs"]["merge"]
    assert "github.event_name != 'pull_request'" in merge["if"]
    assert merge["needs"] == ["check", "build"]
    assert document["permissions"] == {"contents": "read"}
    assert build["permissions"] == {"contents": "read", "packages": "write"}
    assert "permissions" not in pull_request
    assert document["jobs"]["check"].get("permissions") is None
    assert document["concurrency"]["group"] == "bakegen-${{ github.ref }}"


def test_a_registry_without_credentials_is_not_logged_in_to() -> None:
    data = manifest_data(
        repository={"hub": {"registry": {"app": "docker.io/example/app"}}},
    )
    jobs = jobs_of(workflow(typed(data), plan_of(data)))
    assert "permissions" not in jobs["build"]
    assert not [s for s in jobs["build"]["steps"] if "login-action" in s.get("uses", "")]


def test_each_parent_cache_is_written_by_one_job_per_platform() -> None:
    plan = plan_of(EXAMPLE_DATA)
    jobs = build_jobs(plan, Options())
    writers: Counter[tuple[str, str]] = Counter()
    for job in jobs:
        for image in plan.closure(job.targets):
            if image.target not in job.drop_cache:
                writers[(image.target, job.platform)] += 1
    assert set(writers.values()) == {1}
    assert {t for t, _ in writers} == {i.target for i in plan.images}


def test_a_runner_label_per_platform_and_emulation_elsewhere() -> None:
    data = manifest_data(platforms=["linux/amd64", "linux/arm64", "linux/ppc64le"])
    plan = plan_of(data)
    options = Options(runners={**DEFAULT_RUNNERS, "linux/arm64": "arm-big"})
    jobs = jobs_of(workflow(typed(data), plan, options))
    entries = jobs["build"]["strategy"]["matrix"]["include"]
    assert {e["platform"]: (e["runner"], e.get("emulated", False)) for e in entries} == {
        "linux/amd64": ("ubuntu-24.04", False),
        "linux/arm64": ("arm-big", False),
        "linux/ppc64le": ("ubuntu-24.04", True),
    }
    assert any("setup-qemu-action" in s.get("uses", "") for s in jobs["build"]["steps"])


def big_data(packages: int = 60, pythons: int = 20) -> dict[str, Any]:
    return manifest_data(
        max_targets=20000,
        platforms=["linux/amd64", "linux/arm64"],
        python_versions=[f"3.{n}" for n in range(pythons)],
        packages={
            f"p{n:03d}": {"runtime": ["debian"], "devel": ["debian"]} for n in range(packages)
        },
        releases={"debian": {"12": dict(RELEASE)}},
    )


def test_thousands_of_targets_fit_githubs_limits() -> None:
    data = big_data()
    plan = plan_of(data)
    pushed = [i for i in plan.images if i.push]
    assert len(plan.images) + len(plan.verifies) == 6000
    text = workflow(typed(data), plan)
    jobs = jobs_of(text)
    assert_each_image_once(plan, jobs)
    builds = [n for n in jobs if n.startswith("build")]
    entries = sum(len(jobs[n]["strategy"]["matrix"]["include"]) for n in builds)
    assert len(builds) == 4
    assert entries <= Options().max_jobs < 2 * len(pushed)
    assert len(text) < 1_000_000


def test_max_jobs_packs_images_into_fewer_jobs() -> None:
    plan = plan_of(EXAMPLE_DATA)
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan, Options(max_jobs=2)))
    assert_each_image_once(plan, jobs)
    assert len(jobs["build"]["strategy"]["matrix"]["include"]) == 2
    assert len(jobs["merge"]["strategy"]["matrix"]["include"]) == 2


MANIFEST = """\
python_versions: ["3.12"]
platforms: [linux/amd64, linux/arm64]
repository:
  hub:
    only_if: HUB_PASSWORD
    user: HUB_USERNAME
    pwd: HUB_PASSWORD
    registry: {app: docker.io/example/app}
packages:
  app: {runtime: [debian]}
releases:
  debian:
    "12": {templates_dir: templates/debian, base_image: "debian:bookworm-slim", add_to_tags: bookworm}
"""


def test_writes_once_and_never_over_a_foreign_file(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    first = run_cli("ci", "github", cwd=ws)
    assert first.code == 0, first.err
    assert f"{WORKFLOW}: created; 2 build jobs, 1 merge jobs" in first.err
    path = ws / WORKFLOW
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {MARKER}\n")
    stamp = path.stat().st_mtime_ns
    again = run_cli("ci", "github", cwd=ws)
    assert (again.code, path.stat().st_mtime_ns) == (0, stamp)
    assert "unchanged" in again.err
    assert run_cli("ci", "github", "--check", cwd=ws).code == 0
    # another option changes the text: --check says so (exit 1), and writes nothing
    drift = run_cli("ci", "github", "--check", "--branch", "release", cwd=ws)
    assert drift.code == 1
    assert f"{WORKFLOW} would change; run `bakegen ci github`" in drift.err
    assert path.read_text(encoding="utf-8") == text
    # a workflow of the user's own is never overwritten
    own = ws / ".github/workflows/own.yml"
    own.write_text("name: mine\n", encoding="utf-8")
    refused = run_cli("ci", "github", "-o", ".github/workflows/own.yml", cwd=ws)
    assert refused.code == 2
    assert "not made by bakegen" in refused.err
    assert own.read_text(encoding="utf-8") == "name: mine\n"
    assert path.read_text(encoding="utf-8") == text


def test_the_check_job_runs_the_same_command_line(tmp_path: Path) -> None:
    """The check job's `ci github --check` has every option given, so it passes on the
    workflow this command line wrote; a manifest named with -m is used by every bakegen step."""
    ws = make_workspace(tmp_path, MANIFEST)
    (ws / "manifest" / "manifest.yml").rename(ws / "images.yml")
    args = [
        "-m",
        "images.yml",
        "ci",
        "github",
        "--requirement",
        "bakegen>=0.1 ; python_version>'3'",
    ]
    args += ["--runner", "linux/amd64=big-x64", "--branch", "release", "--max-jobs", "5"]
    args += ["--gpu-runner", "gpu-l4"]
    assert run_cli(*args, cwd=ws).code == 0
    check = yaml.safe_load((ws / WORKFLOW).read_text(encoding="utf-8"))["jobs"]["check"]
    runs = [s["run"] for s in check["steps"] if "run" in s]
    install, render, again, affected = runs
    assert install == "python -m pip install 'bakegen>=0.1 ; python_version>'\"'\"'3'\"'\"''"
    assert render == "bakegen -m images.yml render --check"
    command = shlex.split(again)
    assert command[:5] == ["bakegen", "-m", "images.yml", "ci", "github"]
    result = run_cli(*command[1:], cwd=ws)
    assert result.code == 0, result.err
    assert "bakegen -m images.yml affected --since" in affected


def test_a_bad_manifest_is_exit_2(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, MANIFEST.replace("python_versions", "pythons"))
    result = run_cli("ci", "github", cwd=ws)
    assert result.code == 2
    assert "unknown key 'pythons'" in result.err
    assert not (ws / ".github").exists()


@pytest.mark.parametrize("bad", ["linux/arm64", "=label", "linux/arm64="])
def test_a_runner_must_be_platform_equals_label(tmp_path: Path, bad: str) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    result = run_cli("ci", "github", "--runner", bad, cwd=ws)
    assert result.code == 2
    assert "write PLATFORM=RUNNER-LABEL" in result.err
    assert not (ws / ".github").exists()


def test_a_pull_request_job_builds_only_affected_targets() -> None:
    plan = plan_of(EXAMPLE_DATA)
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan))
    check, build = jobs["check"], jobs["build"]
    assert check["outputs"]["affected"] == "${{ steps.affected.outputs.targets }}"
    step = next(s for s in check["steps"] if s.get("id") == "affected")
    assert step["if"] == "${{ github.event_name == 'pull_request' }}"
    settings = next(s for s in build["steps"] if s.get("id") == "settings")
    assert settings["env"]["ONLY_AFFECTED"] == "${{ github.event_name == 'pull_request' }}"
    assert settings["env"]["AFFECTED"] == "${{ needs.check.outputs.affected }}"
    gated = [s for s in build["steps"] if "bake-action" in s.get("uses", "")]
    assert [s["if"] for s in gated] == [
        "${{ steps.settings.outputs.verify != '' }}",
        "${{ steps.settings.outputs.targets != '' }}",
    ]


def test_an_optional_gpu_smoke_job_after_the_merge() -> None:
    data = {
        **EXAMPLE_DATA,
        "packages": {
            "app": {
                "runtime": ["debian"],
                "tests": [{"name": "gpu", "run": "nvidia-smi -L", "gpu": True}],
            }
        },
    }
    plan = plan_of(data)
    assert "smoke" not in jobs_of(workflow(typed(data), plan))
    jobs = jobs_of(workflow(typed(data), plan, Options(gpu_runner="gpu-l4")))
    smoke = jobs["smoke"]
    assert smoke["runs-on"] == "gpu-l4"
    assert smoke["needs"] == ["merge"]
    assert smoke["if"] == "${{ github.event_name != 'pull_request' }}"
    assert smoke["steps"][-1]["run"] == "bakegen smoke"
    # it tests the tags the merge published: the same VERSION and registry gates
    assert smoke["env"] == jobs["merge"]["env"]
