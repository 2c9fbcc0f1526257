"""`bakegen smoke`: run the declared tests of built images with `docker run`.

Tests without `gpu` also run in the verify group; GPU tests cannot run inside a build, so this
is where they run, on a machine with GPUs (`--gpus all`). Which image: the first tag bake gives
it with the current environment (VERSION and the registries' gates), as `bakegen list` shows.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bakegen.commands.list import tag_strings
from bakegen.errors import UsageError, did_you_mean
from bakegen.plan.records import DeclaredTest, Image, Plan

Runner = Callable[[Sequence[str]], int]


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


def smoke(
    plan: Plan,
    env: Mapping[str, str],
    targets: Sequence[str],
    *,
    gpu: bool = True,
    dry_run: bool = False,
    runner: Runner | None = None,
    say: Callable[[str], None] = print,
) -> tuple[int, list[Outcome]]:
    """Run every declared test of the chosen images; exit 1 when one fails."""
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
                say(shlex.join(command))
                continue
            code = run(command)
            result = "pass" if code == 0 else "fail"
            outcomes.append(Outcome(image.target, test.name, result, f"exit {code}"))
    failed = any(o.result == "fail" for o in outcomes)
    return (1 if failed else 0), outcomes


def _run(command: Sequence[str]) -> int:
    return subprocess.run(list(command), check=False).returncode
