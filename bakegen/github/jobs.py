"""The build and merge jobs of the GitHub fan-out: which images each runner builds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bakegen import __version__
from bakegen.plan.records import Plan
from bakegen.schema.document import defaults

MATRIX_LIMIT = 256  # GitHub's limit of jobs per matrix
DEFAULT_MAX_JOBS = 1024  # past this, several images share a job


@dataclass(frozen=True)
class BuildJob:
    """One build job: some pushed images, one platform."""

    targets: tuple[str, ...]
    platform: str
    runner: str
    emulated: bool
    verify: tuple[str, ...]
    drop_cache: tuple[str, ...]

    @property
    def slug(self) -> str:
        return slug(self.platform)


@dataclass(frozen=True)
class MergeJob:
    """One merge job: some images, each with the platforms promised."""

    images: tuple[tuple[str, tuple[str, ...]], ...]


def slug(platform: str) -> str:
    return platform.replace("/", "-")


def _per_job(count: int, max_jobs: int) -> int:
    return max(1, math.ceil(count / max_jobs))


def build_jobs(plan: Plan, options: Options) -> list[BuildJob]:
    """Every pushed image once per platform, grouped into jobs (one image each unless there
    are more than `max_jobs`); each parent's cache is written by the first job building it."""
    pushed = [i for i in plan.images if i.push]
    platforms = sorted({p for i in pushed for p in i.platforms})
    cells = [(p, i) for p in platforms for i in pushed if p in i.platforms]
    size = _per_job(len(cells), options.max_jobs)
    verifies = {v.image: v.target for v in plan.verifies}
    fallback = options.runners.get("linux/amd64", DEFAULT_RUNNERS["linux/amd64"])
    owners: set[tuple[str, str]] = set()
    jobs: list[BuildJob] = []
    for platform in platforms:
        row = [i for p, i in cells if p == platform]
        for start in range(0, len(row), size):
            chunk = row[start : start + size]
            own = {i.target for i in chunk}
            drop: list[str] = []
            for image in plan.closure(tuple(own)):
                key = (platform, image.target)
                if image.target in own or key not in owners:
                    owners.add(key)
                elif plan.ci.cache is not None:
                    drop.append(image.target)
            jobs.append(
                BuildJob(
                    targets=tuple(i.target for i in chunk),
                    platform=platform,
                    runner=options.runners.get(platform, fallback),
                    emulated=platform not in options.runners,
                    verify=tuple(verifies[i.target] for i in chunk if i.target in verifies),
                    drop_cache=tuple(drop),
                )
            )
    return jobs


def merge_jobs(plan: Plan, options: Options) -> list[MergeJob]:
    pushed = [i for i in plan.images if i.push]
    size = _per_job(len(pushed), options.max_jobs)
    return [
        MergeJob(tuple((i.target, i.platforms) for i in pushed[s : s + size]))
        for s in range(0, len(pushed), size)
    ]


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[s : s + MATRIX_LIMIT] for s in range(0, len(items), MATRIX_LIMIT)] or [[]]


def _names(prefix: str, count: int) -> list[str]:
    return [prefix] if count == 1 else [f"{prefix}-{n}" for n in range(1, count + 1)]


DEFAULT_OUTPUT = ".github/workflows/bakegen.yml"
# platform -> runner label: defaults.yaml's `workflow.runners`
DEFAULT_RUNNERS: Mapping[str, str] = dict(defaults()["workflow"]["runners"])


@dataclass(frozen=True)
class Options:
    output: str = DEFAULT_OUTPUT
    requirement: str = f"bakegen=={__version__}"
    runners: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RUNNERS))
    branches: tuple[str, ...] = ("main",)
    max_jobs: int = DEFAULT_MAX_JOBS
    gpu_runner: str | None = None  # a runner label: a job running `bakegen smoke` there
