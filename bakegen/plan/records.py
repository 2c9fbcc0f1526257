"""The plan: typed, immutable records that every later stage reads.

A *release type* is a kind of image (runtime, devel, cudnn); a *distro release* is one version
of a distro (debian 12, whose `distro_id` is `debian12`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bakegen.errors import KeyPath, Problem
from bakegen.manifest.cuda_install import NO_CHECK, REPOSITORY, CudaCheck
from bakegen.manifest.values import CI, BakeSetting, CudaKey, Cudnn, Pairs, Secret, Text


@dataclass(frozen=True)
class Cuda:
    """A CUDA version as one distro release builds it."""

    version: str
    major: str
    minor: str
    shortened: str
    components: Pairs
    cudnn: Cudnn | None
    requires: str
    prefix_url: str
    repo_url: str
    key: CudaKey
    install: str = REPOSITORY  # `cuda_install` of its distro release
    check: CudaCheck = NO_CHECK  # how its verify check reads the version


@dataclass(frozen=True)
class Tag:
    """One tag of an image: given when its gate variable and every tag variable it `needs`
    are non-empty (or always, without any); a fallback tag only when none of the image's other
    tags is given."""

    registry: str
    gate: str | None
    text: Text
    fallback: bool = False
    alias: tuple[str | int, ...] | None = None  # the key path of the alias it comes from
    needs: tuple[str, ...] = ()  # the tag variables its text holds (their bake variables)

    @property
    def conditions(self) -> tuple[str, ...]:
        """Every variable that must be non-empty for bake to give this tag."""
        return (self.gate, *self.needs) if self.gate else self.needs


def active_tags(tags: tuple[Tag, ...], env: Mapping[str, str]) -> list[Tag]:
    """The tags bake gives an image when the variables have the values in `env`."""
    on = [t for t in tags if all(env.get(name) for name in t.conditions)]
    return [t for t in on if not t.fallback] or [t for t in on if t.fallback]


@dataclass(frozen=True)
class ImageTag:
    """A tag read from the built image (`tags_from_image`): its text, holding `{output}` where
    what `run` prints goes, published to every repository of the image's tags."""

    text: Text
    run: str
    path: KeyPath  # its entry of `tags_from_image`
    needs: tuple[str, ...] = ()  # the tag variables its text holds (their bake variables)


@dataclass(frozen=True)
class Dockerfile:
    """One generated Dockerfile; several images (Python versions) may share it."""

    path: str
    template: str
    templates_dir: str
    package: str
    release_type: str
    distro: str
    distro_version: str
    distro_id: str
    base_image: str
    header: str
    envars: Pairs
    python_versions: tuple[str, ...]
    cuda: Cuda | None
    platforms: tuple[str, ...]
    from_parent: bool
    multistage_image: bool
    secrets: tuple[str, ...]
    template_from: KeyPath = ()  # the manifest key that names its template
    context: str = "."  # its build context, relative to the workspace
    args: tuple[str, ...] = ()  # the build arguments `args` gives its images, by name


@dataclass(frozen=True)
class DeclaredTest:
    """A declared test of an image: a shell command run in it."""

    name: str
    run: str
    gpu: bool = False


@dataclass(frozen=True)
class Image:
    """One image variant: one bake target."""

    target: str
    package: str
    release_type: str
    distro: str
    distro_version: str
    distro_id: str
    add_to_tags: str
    os_id: str
    python: str
    cuda: Cuda | None
    platforms: tuple[str, ...]
    dockerfile: str
    parent: str | None
    push: bool
    tags: tuple[Tag, ...]
    args: Pairs
    tests: tuple[DeclaredTest, ...] = ()
    bake: tuple[BakeSetting, ...] = ()  # merged from the manifest's `bake:` keys, sorted
    context: str = "."  # its build context, relative to the workspace
    owner: str = ""  # the package a variant belongs to (the package itself otherwise)
    variant: str | None = None
    parent_from: KeyPath = ()  # where the manifest says what it is built FROM
    image_tags: tuple[ImageTag, ...] = ()  # tags read from the built image when published
    platform_tags: tuple[tuple[str, str], ...] = ()  # platform -> template of its own tags


@dataclass(frozen=True)
class Verify:
    """A check built FROM one image: fails when the image is not what its tags say."""

    target: str
    image: str
    platforms: tuple[str, ...]
    args: Pairs


@dataclass(frozen=True)
class Group:
    name: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    images: tuple[Image, ...]
    dockerfiles: tuple[Dockerfile, ...]
    groups: tuple[Group, ...]
    variables: Pairs
    gates: tuple[str, ...]
    labels: tuple[tuple[str, Text], ...]
    secrets: tuple[Secret, ...]
    verifies: tuple[Verify, ...] = ()
    ci: CI = field(default_factory=CI)
    notes: tuple[Problem, ...] = ()  # what the render summary says beside its counts
    dangling: tuple[Problem, ...] = ()  # images whose parent image is not in the plan

    def values(self, env: Mapping[str, str]) -> dict[str, str]:
        """The bake variables' values as bake resolves them: each variable's default, unless
        `env` sets it."""
        values = dict(self.variables)
        values.update({k: v for k, v in env.items() if k in values})
        return values

    def image(self, target: str) -> Image:
        return next(i for i in self.images if i.target == target)

    def closure(self, targets: tuple[str, ...]) -> list[Image]:
        """The images of `targets` and every parent they are built FROM."""
        wanted: set[str] = set()
        stack = list(targets)
        while stack:
            name = stack.pop()
            if name not in wanted:
                wanted.add(name)
                parent = self.image(name).parent
                if parent:
                    stack.append(parent)
        return [i for i in self.images if i.target in wanted]
