"""`bakegen smoke`: which tests run, in which image, with which docker command (unit tier; the
real `docker run` is in the end-to-end tests)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bakegen.commands.smoke import code_of, run_tests
from bakegen.errors import UsageError
from testing.unit import manifest_data, plan_of

TESTS = [
    {"name": "ok", "run": "true"},
    {"name": "broken", "run": "exit 3"},
    {"name": "gpu", "run": "nvidia-smi -L", "gpu": True},
]
PLAN = plan_of(
    manifest_data(version="1.0", packages={"app": {"runtime": ["debian"], "tests": TESTS}})
)
TARGET = "app-runtime-debian12-py312"


def test_every_test_runs_in_the_tagged_image_and_a_failure_fails() -> None:
    ran: list[list[str]] = []

    def runner(command: Sequence[str]) -> int:
        ran.append(list(command))
        return 3 if command[-1] == "exit 3" else 0

    outcomes = run_tests(PLAN, {}, [], runner=runner)
    assert code_of(outcomes) == 1
    image = "app:1.0-python3.12-bookworm-runtime"
    assert ran == [
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", "true"],
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", "exit 3"],
        [
            "docker",
            "run",
            "--rm",
            "--gpus",
            "all",
            "--entrypoint",
            "sh",
            image,
            "-c",
            "nvidia-smi -L",
        ],
    ]
    assert [(o.test, o.result) for o in outcomes] == [
        ("ok", "pass"),
        ("broken", "fail"),
        ("gpu", "pass"),
    ]


def test_no_gpu_skips_gpu_tests_saying_so() -> None:
    outcomes = run_tests(PLAN, {}, [TARGET], gpu=False, runner=lambda _command: 0)
    assert code_of(outcomes) == 0
    assert [(o.test, o.result, o.detail) for o in outcomes][-1] == (
        "gpu",
        "skip",
        "needs a GPU (--no-gpu)",
    )


def test_dry_run_prints_the_commands_and_runs_nothing() -> None:
    said: list[str] = []

    def runner(_command: Sequence[str]) -> int:
        raise AssertionError("a dry run runs nothing")

    outcomes = run_tests(
        PLAN, {"VERSION": "2.0"}, [TARGET], dry_run=True, runner=runner, say=said.append
    )
    assert outcomes == []
    assert said[0] == "docker run --rm --entrypoint sh app:2.0-python3.12-bookworm-runtime -c true"
    assert said[2].startswith("docker run --rm --gpus all ")


def test_a_misspelt_target_is_a_usage_error_with_a_suggestion() -> None:
    with pytest.raises(UsageError, match="did you mean 'app-runtime-debian12-py312'"):
        run_tests(PLAN, {}, ["app-runtime-debian12-py31"])
