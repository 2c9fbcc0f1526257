"""The plan: typed, immutable records that every later stage reads.

A *release type* is a kind of image (runtime, devel, cudnn); a *distro release* is one version
of a distro (debian 12, whose `distro_id` is `debian12`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Var:
    """A reference to a bake variable inside a string, resolved at bake time."""

    name: str


Text = tuple["str | Var", ...]


def resolve(text: Text, env: Mapping[str, str]) -> str:
    """What bake makes of `text` given the variables' values."""
    return "".join(env[p.name] if isinstance(p, Var) else p for p in text)


@dataclass(frozen=True)
class Cudnn:
    """The cuDNN component of a CUDA version: `cudnn9` at `9.1.0.70-1` has major version `9`."""

    name: str
    version: str
    major_version: str


@dataclass(frozen=True)
class CudaKey:
    """The CUDA repository's signing key: exactly one of a file name in each architecture's
    folder of the repository, a URL, or a file in the workspace (copied into the build)."""

    name: str | None = None
    url: str | None = None
    file: str | None = None


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


@dataclass(frozen=True)
class Tag:
    """One tag of an image: given when its gate variable is non-empty (or always, without one);
    a fallback tag only when none of the image's other tags is given."""

    registry: str
    gate: str | None
    text: Text
    fallback: bool = False
    alias: tuple[str | int, ...] | None = None  # the key path of the alias it comes from


def active_tags(tags: tuple[Tag, ...], env: Mapping[str, str]) -> list[Tag]:
    """The tags bake gives an image when the variables have the values in `env`."""
    given = [t for t in tags if not t.fallback and (not t.gate or env.get(t.gate))]
    return given or [t for t in tags if t.fallback]


@dataclass(frozen=True)
class Secret:
    id: str
    env: str | None
    src: str | None


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


@dataclass(frozen=True)
class DeclaredTest:
    """A declared test of an image: a shell command run in it."""

    name: str
    run: str
    gpu: bool = False


BakeValue = str | bool | tuple[str, ...]


@dataclass(frozen=True)
class BakeSetting:
    """A value a manifest's `bake:` key gives image targets: a whole attribute, or one key of a
    map attribute (`args`, `labels`, `contexts`, `extra-hosts`), with the key path it is written at."""

    attribute: str
    key: str | None
    value: BakeValue
    path: tuple[str | int, ...]


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


@dataclass(frozen=True)
class Verify:
    """A check built FROM one image: fails when the image is not what its tags say."""

    target: str
    image: str
    platforms: tuple[str, ...]
    args: Pairs


@dataclass(frozen=True)
class Cache:
    """Where bake keeps each image target's build cache: `gha`, `registry` (images `ref:<target>`)
    or `local` (folders `dir/<target>`)."""

    type: str
    ref: str | None = None
    dir: str | None = None


@dataclass(frozen=True)
class Attestations:
    sbom: bool = False
    provenance: str | None = None  # min or max


@dataclass(frozen=True)
class CI:
    """The bake file's CI settings: cache, attestations, and inheriting docker/metadata-action's
    target. The defaults add nothing, so a local bake needs no CI service."""

    cache: Cache | None = None
    attestations: Attestations = Attestations()
    metadata_action: bool = False


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
    ci: CI = CI()

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
