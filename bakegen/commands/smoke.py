"""`bakegen smoke`: run the declared tests of built images with `docker run`.

Tests without `gpu` also run in the verify group; GPU tests cannot run inside a build, so this
is where they run, on a machine with GPUs (`--gpus all`). Which image: the first tag bake gives
it with the current environment (VERSION and the registries' gates), as `bakegen list` shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bakegen.commands.list import tag_strings
from bakegen.errors import UsageError, did_you_mean
from bakegen.output import Streams, shell_words, table
from bakegen.pipeline import plan_workspace
from bakegen.plan.records import DeclaredTest, Image, Plan

Runner = Callable[[Sequence[str]], int]
GET_DOCKER = (
    "install Docker (Docker Engine or Docker Desktop) or put docker on PATH, and run again "
    "(`--dry-run` prints the commands without it)"
)


@dataclass(frozen=True)
class Outcome:
    target: str
    test: str
    result: str  # pass, fail, skip
    detail: str


def docker_run(image: str, test: DeclaredTest) -> list[str]:
    """The command that runs `test` in `image`: its own shell, not the image's entrypoint."""
    gpus = ["--gpus", "all"] if test.gpu else []
    return ["docker", "run", "--rm", *gpus, "--entrypoint", "sh", image, "-c", test.run]


def chosen_images(plan: Plan, targets: Sequence[str]) -> list[Image]:
    """The images named (default: every pushed image that declares a test)."""
    pushed = {i.target: i for i in plan.images if i.push}
    if not targets:
        return [i for i in pushed.values() if i.tests]
    unknown = [t for t in targets if t not in pushed]
    if unknown:
        raise UsageError(
            f"no pushed image '{unknown[0]}'{did_you_mean(unknown[0], sorted(pushed))}"
        )
    return [pushed[t] for t in dict.fromkeys(targets)]


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    targets: Sequence[str] = (),
    gpu: bool = True,
    dry_run: bool = False,
) -> int:
    """Run the tests; a table of outcomes; exit 1 when one failed."""
    outcomes = run_tests(
        plan_workspace(ws, manifest),
        os.environ,
        targets,
        gpu=gpu,
        dry_run=dry_run,
        say=io.out.print,
    )
    if outcomes:
        table(
            io.out,
            ("target", "test", "result", "detail"),
            [(o.target, o.test, o.result, o.detail) for o in outcomes],
        )
    return code_of(outcomes)


def code_of(outcomes: Sequence[Outcome]) -> int:
    """1 when a test failed, else 0."""
    return 1 if any(o.result == "fail" for o in outcomes) else 0


def run_tests(
    plan: Plan,
    env: Mapping[str, str],
    targets: Sequence[str],
    *,
    gpu: bool = True,
    dry_run: bool = False,
    runner: Runner | None = None,
    say: Callable[[str], None] = print,
) -> list[Outcome]:
    """Run every declared test of the chosen images (`say` prints a dry run's commands)."""
    run = runner or _run
    values = plan.values(env)
    outcomes: list[Outcome] = []
    for image in chosen_images(plan, targets):
        tags = tag_strings(image, values)
        for test in image.tests:
            if test.gpu and not gpu:
                outcomes.append(Outcome(image.target, test.name, "skip", "needs a GPU (--no-gpu)"))
                continue
            if not tags:
                outcomes.append(Outcome(image.target, test.name, "skip", "the image has no tag"))
                continue
            command = docker_run(tags[0], test)
            if dry_run:
                say(shell_words(command))
                continue
            code = run(command)
            result = "pass" if code == 0 else "fail"
            outcomes.append(Outcome(image.target, test.name, result, f"exit {code}"))
    return outcomes


def _run(command: Sequence[str]) -> int:
    """Run `command` (docker); a one-line error when docker is not there to run."""
    if shutil.which(command[0]) is None:
        raise UsageError(
            f"{command[0]} not found on PATH (or not executable): `bakegen smoke` runs each "
            f"test with `docker run`; {GET_DOCKER}"
        )
    try:
        return subprocess.run(list(command), check=False).returncode
    except OSError as exc:
        raise UsageError(f"{command[0]} cannot be run ({exc.strerror}); {GET_DOCKER}") from None
