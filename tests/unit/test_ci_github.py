"""`bakegen ci github`: the workflow's structure from the plan, and its writes.

Structural tests run in memory on plans; the write tests on temporary workspaces (the linters
and the scripts the jobs run: tests/integration/test_ci_github_tools.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from bakegen.github.jobs import DEFAULT_RUNNERS, MATRIX_LIMIT, Options, waves
from bakegen.github.scripts import BAKE_SETTINGS, EXPORT_DIGESTS, MERGE, START, script
from bakegen.github.workflow import workflow
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.plan.records import Plan
from testing.helpers import ROOT
from testing.unit import RELEASE, manifest_data, plan_of, typed


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


def platform_of(job: dict[str, Any]) -> str:
    settings = next(s for s in job["steps"] if s.get("id") == "settings")
    platform: str = settings["env"]["PLATFORM"]
    return platform


def built(jobs: dict[str, Any], event: str = "push") -> Counter[tuple[str, str]]:
    """(target, platform) -> how many build jobs build it on `event`."""
    found: Counter[tuple[str, str]] = Counter()
    for name, job in jobs.items():
        if name.startswith("build") and runs_on(job, event):
            for entry in job["strategy"]["matrix"]["include"]:
                for target in entry["targets"].split(","):
                    found[(target, platform_of(job))] += 1
    return found


def builder(jobs: dict[str, Any], event: str = "push") -> dict[tuple[str, str], str]:
    """(target, platform) -> the name of the job building it on `event`."""
    return {
        (target, platform_of(job)): name
        for name, job in jobs.items()
        if name.startswith("build") and runs_on(job, event)
        for entry in job["strategy"]["matrix"]["include"]
        for target in entry["targets"].split(",")
    }


def merged(jobs: dict[str, Any]) -> Counter[tuple[str, tuple[str, ...]]]:
    found: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for name, job in jobs.items():
        if name.startswith("merge"):
            for entry in job["strategy"]["matrix"]["include"]:
                for item in entry["images"].split():
                    target, _, platforms = item.partition("=")
                    found[(target, tuple(platforms.split(",")))] += 1
    return found


def merger(jobs: dict[str, Any]) -> dict[str, str]:
    return {
        item.partition("=")[0]: name
        for name, job in jobs.items()
        if name.startswith("merge")
        for entry in job["strategy"]["matrix"]["include"]
        for item in entry["images"].split()
    }


def assert_each_image_once(plan: Plan, jobs: dict[str, Any]) -> None:
    """Every image (pushed or not) is built once per platform, by a job that runs after the
    job building its parent on that platform; every pushed image is merged once, after every
    job building it."""
    pushed = [i for i in plan.images if i.push]
    for event in EVENTS:
        once = Counter({(i.target, p): 1 for i in plan.images for p in i.platforms})
        assert built(jobs, event) == once, event
        by = builder(jobs, event)
        for image in plan.images:
            for platform in image.platforms:
                job = jobs[by[(image.target, platform)]]
                if image.parent:
                    assert by[(image.parent, platform)] in job["needs"], image.target
    assert merged(jobs) == Counter({(i.target, i.platforms): 1 for i in pushed})
    merges, by = merger(jobs), builder(jobs)
    for image in pushed:
        needs = jobs[merges[image.target]]["needs"]
        assert {by[(image.target, p)] for p in image.platforms} <= set(needs), image.target
    for name, job in jobs.items():
        if "strategy" in job:
            assert 0 < len(job["strategy"]["matrix"]["include"]) <= MATRIX_LIMIT, name


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
    builds = {n: j for n, j in jobs.items() if n.startswith("build")}
    assert {platform_of(j): j["runs-on"] for j in builds.values()} == DEFAULT_RUNNERS
    # two waves per platform (base, then the runtime and devel images FROM it), for pushes
    # and for pull requests (which build with no write permission)
    assert sorted(builds) == [
        f"build{pr}-linux-{arch}-{depth}"
        for pr in ("", "-pr")
        for arch in ("amd64", "arm64")
        for depth in (0, 1)
    ]
    assert jobs["build-linux-arm64-0"]["needs"] == ["check"]
    assert jobs["build-linux-arm64-1"]["needs"] == ["check", "build-linux-arm64-0"]
    assert jobs["build-pr-linux-arm64-1"]["needs"] == ["check", "build-pr-linux-arm64-0"]
    assert jobs["merge-1"]["needs"] == ["check", "build-linux-amd64-1", "build-linux-arm64-1"]


def test_the_example_workspace() -> None:
    typed_example = read_manifest(ROOT)
    plan = plan_manifest(typed_example)
    jobs = jobs_of(workflow(typed_example, plan))
    assert_each_image_once(plan, jobs)
    # no ghcr.io: one set of build jobs for both events; base images are never published
    assert set(jobs) == {
        "check",
        *(f"build-linux-{a}-{d}" for a in ("amd64", "arm64") for d in (0, 1)),
        "merge-1",
    }


def test_the_python_steps_run_the_script_files_from_their_marker_line() -> None:
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan_of(EXAMPLE_DATA)))
    ran = {
        step["name"]: step["run"]
        for job in ("build-linux-amd64-1", "merge-1")
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
    jobs = document["jobs"]
    build, pull_request = jobs["build-linux-amd64-1"], jobs["build-pr-linux-amd64-1"]
    after = "!cancelled() && needs.check.result == 'success' && "
    assert build["if"] == "${{ " + after + "github.event_name != 'pull_request' }}"
    assert pull_request["if"] == "${{ " + after + "github.event_name == 'pull_request' }}"
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
    uploads = [s["with"] for s in build["steps"] if "upload-artifact" in s.get("uses", "")]
    assert [u["name"] for u in uploads] == ["digests-linux-amd64-${{ matrix.key }}"]
    pr_uploads = [
        s["with"] for s in pull_request["steps"] if "upload-artifact" in s.get("uses", "")
    ]
    # a pull request hands its parents on as OCI layouts, and pushes nothing
    assert [u["name"] for u in pr_uploads] == [
        "digests-linux-amd64-${{ matrix.key }}",
        "oci-linux-amd64-${{ matrix.key }}",
    ]
    pr_uses = [s.get("uses", "") for s in pull_request["steps"]]
    assert not [u for u in pr_uses if "login-action" in u]
    merge = jobs["merge-1"]
    assert "github.event_name != 'pull_request'" in merge["if"]
    assert merge["needs"] == ["check", "build-linux-amd64-1", "build-linux-arm64-1"]
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
    assert "permissions" not in jobs["build-linux-amd64-1"]
    steps = jobs["build-linux-amd64-1"]["steps"]
    assert not [s for s in steps if "login-action" in s.get("uses", "")]


def test_each_job_builds_its_own_images_with_its_parents_by_digest() -> None:
    """A wave after the first downloads the references its platform's earlier waves made, and
    the settings step sets each image's parent context from them: no job builds a parent."""
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan_of(EXAMPLE_DATA)))
    first, second = jobs["build-linux-arm64-0"], jobs["build-linux-arm64-1"]
    downloads = [s["with"] for s in second["steps"] if "download-artifact" in s.get("uses", "")]
    assert downloads == [
        {
            "pattern": "digests-linux-arm64-*",
            "merge-multiple": True,
            "path": "${{ runner.temp }}/digests",
        }
    ]
    assert not [s for s in first["steps"] if "download-artifact" in s.get("uses", "")]
    assert [e["targets"] for e in first["strategy"]["matrix"]["include"]] == [
        "app-base-debian12-py312"
    ]
    assert second["env"]["STAGING"] == "docker.io/example/app-staging"
    options = waves(plan_of(EXAMPLE_DATA), Options())
    assert [(w.platform, w.depth, len(w.entries)) for w in options] == [
        ("linux/amd64", 0, 1),
        ("linux/amd64", 1, 2),
        ("linux/arm64", 0, 1),
        ("linux/arm64", 1, 2),
    ]


def test_a_runner_label_per_platform_and_emulation_elsewhere() -> None:
    data = manifest_data(platforms=["linux/amd64", "linux/arm64", "linux/ppc64le"])
    plan = plan_of(data)
    options = Options(runners={**DEFAULT_RUNNERS, "linux/arm64": "arm-big"})
    jobs = jobs_of(workflow(typed(data), plan, options))
    builds = [j for n, j in jobs.items() if n.startswith("build")]

    def emulated(job: dict[str, Any]) -> bool:
        return any("setup-qemu-action" in s.get("uses", "") for s in job["steps"])

    assert {platform_of(j): (j["runs-on"], emulated(j)) for j in builds} == {
        "linux/amd64": ("ubuntu-24.04", False),
        "linux/arm64": ("arm-big", False),
        "linux/ppc64le": ("ubuntu-24.04", True),
    }


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
    pushes = [n for n in builds if not n.startswith("build-pr")]
    entries = sum(len(jobs[n]["strategy"]["matrix"]["include"]) for n in pushes)
    # 7200 builds, 8 an entry past max_jobs: per platform, wave 0 (1200 bases, 150 entries) in
    # one job and wave 1 (2400 images, 300 entries) in two; for pushes and pull requests
    assert len(builds) == 2 * 2 * (1 + 2)
    assert entries <= Options().max_jobs < 2 * len(pushed)
    assert len(text) < 1_000_000


def test_max_jobs_packs_images_into_fewer_jobs() -> None:
    plan = plan_of(EXAMPLE_DATA)
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan, Options(max_jobs=2)))
    assert_each_image_once(plan, jobs)
    builds = [j for n, j in jobs.items() if n.startswith("build-linux")]
    assert sum(len(j["strategy"]["matrix"]["include"]) for j in builds) == 4  # 6 builds, 2 a job
    # two images to merge, no more than max_jobs: one a job
    assert len(jobs["merge-1"]["strategy"]["matrix"]["include"]) == 2


def test_a_pull_request_job_builds_only_affected_targets() -> None:
    plan = plan_of(EXAMPLE_DATA)
    jobs = jobs_of(workflow(typed(EXAMPLE_DATA), plan))
    check, build = jobs["check"], jobs["build-linux-amd64-1"]
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
    assert smoke["needs"] == ["merge-1"]
    assert smoke["if"] == "${{ github.event_name != 'pull_request' }}"
    assert smoke["steps"][-1]["run"] == "bakegen smoke"
    # it tests the tags the merge published: the same VERSION and registry gates
    assert smoke["env"] == jobs["merge-1"]["env"]


GITHUB_FILE_LIMIT = 500 * 1024  # GitHub starts no run of a larger workflow file


def test_300_images_in_waves_under_githubs_file_limit() -> None:
    data = big_data(packages=50, pythons=2)
    plan = plan_of(data)
    assert len(plan.images) == 300
    text = workflow(typed(data), plan)
    jobs = jobs_of(text)
    assert_each_image_once(plan, jobs)
    assert len(text) < GITHUB_FILE_LIMIT
    pushes = sorted(n for n in jobs if n.startswith("build-linux"))
    assert pushes == [f"build-linux-{a}-{d}" for a in ("amd64", "arm64") for d in (0, 1)]
