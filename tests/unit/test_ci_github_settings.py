"""`bakegen ci github` adjusted by the manifest's `workflow:` key: events, schedule, timeouts,
runner labels and steps of the user's own, and the drift check of each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.github.jobs import DEFAULT_RUNNERS, Options
from bakegen.github.workflow import workflow
from bakegen.schema.document import defaults
from testing.helpers import make_workspace, run_cli
from testing.unit import plan_of, typed
from tests.unit.test_ci_github import (
    EXAMPLE_DATA,
    assert_each_image_once,
    jobs_of,
    platform_of,
)
from tests.unit.test_ci_github_writes import MANIFEST, WORKFLOW

# every key at once: what tests/integration/test_ci_github_tools.py lints too
FULL_WORKFLOW: dict[str, Any] = {
    "events": ["push", "pull_request", "schedule"],
    "schedule": ["0 4 * * 1", "30 2 1 * *"],
    "timeouts": {"check": 10, "build": 120, "merge": 20, "smoke": 30},
    "runners": {"linux/amd64": "ubuntu-latest", "linux/arm64": "ubuntu-22.04-arm"},
    "steps": [
        {
            "env": {"KEEP": "docker"},
            "run": "sudo rm -rf /usr/share/dotnet /opt/ghc\ndf -h\n",
            "name": "Free disk space",
        },
        {
            "uses": "actions/cache@0400d5f644dc74513175e3cd8d07132dd4860809",
            "with": {"path": "~/.cache/pip", "key": "pip"},
            "if": "github.event_name != 'pull_request'",
        },
    ],
}


def document(data: dict[str, Any], options: Options | None = None) -> dict[Any, Any]:
    found: dict[Any, Any] = yaml.safe_load(workflow(typed(data), plan_of(data), options))
    return found


def with_workflow(**keys: Any) -> dict[str, Any]:
    return {**EXAMPLE_DATA, "workflow": keys}


def test_an_empty_workflow_key_changes_nothing() -> None:
    plain = workflow(typed(EXAMPLE_DATA), plan_of(EXAMPLE_DATA))
    data = with_workflow()
    assert workflow(typed(data), plan_of(data)) == plain
    assert "timeout-minutes" not in plain
    assert "schedule" not in plain


def test_the_default_events_are_todays() -> None:
    assert defaults()["workflow"]["events"] == list(typed(EXAMPLE_DATA).workflow.events)
    on = document(EXAMPLE_DATA)[True]  # YAML 1.1 reads the key `on` as true
    assert on == {
        "push": {"branches": ["main"], "tags": ["[0-9]*"]},
        "pull_request": None,
        "workflow_dispatch": None,
    }


def test_a_schedule_runs_and_publishes_like_a_push() -> None:
    data = with_workflow(schedule=["0 4 * * 1", "0 4 * * 1", "15 3 * * *"])
    found = document(data)
    assert found[True]["schedule"] == [{"cron": "0 4 * * 1"}, {"cron": "15 3 * * *"}]
    assert set(found[True]) == {"push", "pull_request", "workflow_dispatch", "schedule"}
    jobs = found["jobs"]
    # build (pushes and schedules: not pull requests), merge: gated on "not a pull request" only
    build = jobs["build-linux-amd64-1"]
    assert build["if"].endswith("&& github.event_name != 'pull_request' }}")
    assert jobs["merge-1"]["if"].endswith("&& github.event_name != 'pull_request' }}")
    assert build["env"]["PUSH"] == "${{ github.event_name != 'pull_request' }}"
    assert_each_image_once(plan_of(data), jobs)


@pytest.mark.parametrize(
    ("events", "on"),
    [
        (["push"], {"push": {"branches": ["main"]}}),
        (["tags"], {"push": {"tags": ["[0-9]*"]}}),
        (["pull_request", "workflow_dispatch"], {"pull_request": None, "workflow_dispatch": None}),
        (["workflow_dispatch", "schedule"], {"workflow_dispatch": None}),  # no schedule given
    ],
)
def test_events_choose_the_triggers(events: list[str], on: dict[str, Any]) -> None:
    assert document(with_workflow(events=events))[True] == on


def test_without_pull_requests_no_pull_request_build_jobs() -> None:
    assert "build-pr-linux-amd64-0" in document(EXAMPLE_DATA)["jobs"]  # ghcr.io token: split
    jobs = document(with_workflow(events=["push", "tags"]))["jobs"]
    waves = {f"build-linux-{a}-{d}" for a in ("amd64", "arm64") for d in (0, 1)}
    assert set(jobs) == {"check", *waves, "merge-1"}


def test_timeouts_per_kind_of_job() -> None:
    data = with_workflow(timeouts={"check": 7, "build": 90, "merge": 15, "smoke": 45})
    jobs = document(data, Options(gpu_runner="gpu"))["jobs"]

    def kind(name: str) -> str:
        return name.split("-", maxsplit=1)[0]

    minutes = {kind(name): job.get("timeout-minutes") for name, job in jobs.items()}
    assert minutes == {"check": 7, "build": 90, "merge": 15, "smoke": 45}
    only = document(with_workflow(timeouts={"merge": 5}))["jobs"]
    assert {kind(n): j.get("timeout-minutes") for n, j in only.items()} == {
        "check": None,
        "build": None,
        "merge": 5,
    }


def _matrix_runners(jobs: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {
        platform_of(job): (
            job["runs-on"],
            any("setup-qemu-action" in s.get("uses", "") for s in job["steps"]),
        )
        for name, job in jobs.items()
        if name.startswith("build")
    }


def test_runners_from_the_manifest_and_the_option_over_them() -> None:
    platforms = ["linux/amd64", "linux/arm64", "linux/ppc64le"]
    data = {**with_workflow(runners={"linux/arm64": "arm-big"}), "platforms": platforms}
    jobs = document(data)["jobs"]
    assert _matrix_runners(jobs) == {
        "linux/amd64": ("ubuntu-24.04", False),
        "linux/arm64": ("arm-big", False),
        "linux/ppc64le": ("ubuntu-24.04", True),
    }
    data = with_workflow(runners={"linux/amd64": "x64-big", "linux/arm64": "arm-big"})
    options = Options(runners={**DEFAULT_RUNNERS, "linux/arm64": "arm-huge"})
    jobs = document(data, options)["jobs"]
    assert _matrix_runners(jobs) == {
        "linux/amd64": ("x64-big", False),
        "linux/arm64": ("arm-huge", False),
    }
    assert jobs["check"]["runs-on"] == jobs["merge-1"]["runs-on"] == "x64-big"
    check = next(s["run"] for s in jobs["check"]["steps"] if "ci github" in s.get("run", ""))
    # the option is repeated; the manifest's own label is not (it is read again)
    assert "--runner linux/arm64=arm-huge" in check
    assert "linux/amd64" not in check


def test_steps_of_the_users_own_right_after_the_checkout() -> None:
    jobs = document(with_workflow(steps=FULL_WORKFLOW["steps"]))["jobs"]
    for name in ("build-linux-amd64-0", "build-pr-linux-arm64-1"):
        steps = jobs[name]["steps"]
        assert "actions/checkout@" in steps[0]["uses"]
        assert steps[1:3] == [
            {
                "name": "Free disk space",
                "env": {"KEEP": "docker"},
                "run": "sudo rm -rf /usr/share/dotnet /opt/ghc\ndf -h\n",
            },
            {
                "if": "github.event_name != 'pull_request'",
                "uses": "actions/cache@0400d5f644dc74513175e3cd8d07132dd4860809",
                "with": {"path": "~/.cache/pip", "key": "pip"},
            },
        ]
        assert list(steps[1]) == ["name", "env", "run"]  # one order, whatever the manifest's
    for name in ("check", "merge-1"):
        assert not [s for s in jobs[name]["steps"] if s.get("name") == "Free disk space"]


def _workspace(tmp_path: Path, workflow_key: str) -> Path:
    return make_workspace(tmp_path, MANIFEST + workflow_key)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "workflow: {runners: {linux/arm64: arm-big}}\n"),
        (
            "workflow: {runners: {linux/arm64: arm-big}}\n",
            "workflow: {runners: {linux/arm64: arm-x}}\n",
        ),
        ("workflow: {runners: {linux/arm64: arm-big}}\n", ""),
        ("", "workflow: {schedule: ['0 4 * * 1']}\n"),
        ("", "workflow: {events: [push]}\n"),
        ("", "workflow: {timeouts: {build: 60}}\n"),
        ("", "workflow: {steps: [{run: df -h}]}\n"),
    ],
)
def test_a_changed_workflow_key_is_drift(tmp_path: Path, before: str, after: str) -> None:
    """The check job's command line, run after the manifest's `workflow:` changed: exit 1."""
    ws = _workspace(tmp_path, before)
    assert run_cli("ci", "github", cwd=ws).code == 0
    text = (ws / WORKFLOW).read_text(encoding="utf-8")
    check = next(
        s["run"] for s in jobs_of(text)["check"]["steps"] if "ci github" in s.get("run", "")
    )
    command = check.split()[1:]
    assert run_cli(*command, cwd=ws).code == 0
    (ws / "manifest" / "manifest.yml").write_text(MANIFEST + after, encoding="utf-8")
    drift = run_cli(*command, cwd=ws)
    assert drift.code == 1, drift.err
    assert (ws / WORKFLOW).read_text(encoding="utf-8") == text


def test_no_event_left_is_one_line_exit_2(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "workflow:\n  events: [schedule]\n")
    result = run_cli("ci", "github", cwd=ws)
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "manifest/manifest.yml:15:3: workflow.events: no event runs the workflow: schedule "
        "needs `workflow.schedule`; name another event, or give the schedule"
    ]
    assert not (ws / ".github").exists()
