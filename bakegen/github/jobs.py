"""The build and merge jobs of the GitHub fan-out: which images each runner builds, in waves.

The images form a graph (each built FROM at most one parent of the plan). A wave is one
platform and one depth of that graph: wave 0 holds the images built FROM no image of the plan,
wave d those whose parent is in wave d - 1. A wave's job runs after the wave before it on the
same platform, so every image is built once per platform, by one job, with its parent taken by
digest from the job that built it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bakegen import __version__
from bakegen.plan.records import Image, Plan
from bakegen.schema.document import defaults

MATRIX_LIMIT = 256  # GitHub's limit of jobs per matrix
DEFAULT_MAX_JOBS = 1024  # past this many (image, platform) builds, several images share a job


@dataclass(frozen=True)
class Entry:
    """One build of a wave job's matrix: some images of one wave (one unless there are more
    than `max_jobs` builds). What each is built FROM, its verify target and its build id the
    build asks `bakegen ci ids` for."""

    targets: tuple[str, ...]


@dataclass(frozen=True)
class Wave:
    """The images of one depth of the graph, on one platform."""

    platform: str
    depth: int
    runner: str
    emulated: bool
    entries: tuple[Entry, ...]

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


def depths(plan: Plan) -> dict[str, int]:
    """Each image's depth in the graph: 0 for an image built FROM no image of the plan."""
    by_target = {i.target: i for i in plan.images}
    found: dict[str, int] = {}

    def depth(image: Image) -> int:
        if image.target not in found:
            parent = by_target.get(image.parent or "")
            found[image.target] = 0 if parent is None else depth(parent) + 1
        return found[image.target]

    for image in plan.images:
        depth(image)
    return found


def waves(plan: Plan, options: Options) -> list[Wave]:
    """Every image of the plan once per platform, in waves by platform then depth."""
    level = depths(plan)
    builds = sum(len(i.platforms) for i in plan.images)
    size = _per_job(builds, options.max_jobs)
    fallback = options.runners.get("linux/amd64", DEFAULT_RUNNERS["linux/amd64"])
    found: list[Wave] = []
    for platform in sorted({p for i in plan.images for p in i.platforms}):
        on = [i for i in plan.images if platform in i.platforms]
        for depth in range(max((level[i.target] for i in on), default=-1) + 1):
            row = [i for i in on if level[i.target] == depth]
            entries = tuple(
                Entry(tuple(i.target for i in row[s : s + size])) for s in range(0, len(row), size)
            )
            runner = options.runners.get(platform, fallback)
            found.append(Wave(platform, depth, runner, platform not in options.runners, entries))
    return found


def builds(plan: Plan) -> int:
    """How many image builds the waves hold: each image once per platform."""
    return sum(len(i.platforms) for i in plan.images)


def merge_jobs(images: Sequence[Image], options: Options) -> list[MergeJob]:
    """The merge jobs of the pushed ones of `images`."""
    pushed = [i for i in images if i.push]
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
