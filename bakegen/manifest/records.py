"""The typed manifest: the schema-checked data as frozen records, built once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bakegen.errors import KeyPath, Location, Problem
from bakegen.load.sourcemap import nearest
from bakegen.manifest.cuda_install import NO_CHECK, REPOSITORY, CudaCheck
from bakegen.manifest.image_keys import Narrowed, ParentRef, Tagging, Where
from bakegen.manifest.image_tags import IMAGE_TAG_KEYS, ImageTagKeys
from bakegen.manifest.tag_variables import TagVariable
from bakegen.manifest.trust import Gate, Signing
from bakegen.manifest.values import (
    CI,
    BakeSetting,
    CudaKey,
    Cudnn,
    Pairs,
    Secret,
    Workflow,
)
from bakegen.plan.names import version_key

if TYPE_CHECKING:
    from bakegen.manifest.args import ArgRule

# The first part of the origin of a value that comes from bakegen's defaults, not the manifest.
DEFAULT = "<default>"
# Keys of a package (and of a variant) that are not release types.
PACKAGE_KEYS = (
    "python_versions",
    "parent",
    "tests",
    "bake",
    "platforms",
    "template",
    "context",
    "variants",
    "tag_prefix",
    "tag_suffix",
    "repository",
    "args",
    "cuda_check",
    *IMAGE_TAG_KEYS,
    "gates",
    "signing",
)


@dataclass(frozen=True)
class CudaVersion:
    """An entry of `cuda_dependencies`."""

    version: str
    major: str
    minor: str
    components: Pairs  # every component but cuDNN, by name
    cudnn: Cudnn | None
    cudnn_names: tuple[str, ...]  # every component named cudnn* (a check wants at most one)
    path: KeyPath

    @property
    def shortened(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def all_components(self) -> Pairs:
        cudnn = ((self.cudnn.name, self.cudnn.version),) if self.cudnn else ()
        return tuple(sorted((*self.components, *cudnn)))


@dataclass(frozen=True)
class Alias:
    """A floating tag of a release type: one image per package gets it."""

    tag: str
    where: Where
    path: KeyPath


@dataclass(frozen=True)
class ImageTest:
    """A test a package declares for its pushed images."""

    name: str
    run: str
    gpu: bool
    where: Where
    path: KeyPath


@dataclass(frozen=True)
class ReleaseType:
    name: str
    parent: str | None
    push: bool
    cuda: bool  # its own `cuda` flag
    tag: str | None
    aliases: tuple[Alias, ...]
    exclude_python: tuple[str, ...]
    parent_from: KeyPath  # where `parent` is set: the manifest, or bakegen's defaults
    lineage: tuple[str, ...]  # itself, then the types it is built FROM, nearest first
    needs_cuda: bool  # it, or a type it is built FROM, has one image per CUDA version
    path: KeyPath
    bake: tuple[BakeSetting, ...] = ()
    platforms: Narrowed = field(default_factory=Narrowed)
    image_tags: ImageTagKeys = field(default_factory=ImageTagKeys)
    gates: tuple[Gate, ...] = ()


@dataclass(frozen=True)
class Registry:
    name: str
    only_if: str | None
    user: str | None
    pwd: str | None
    repositories: Pairs  # package -> image repository
    path: KeyPath

    def repository(self, package: str) -> str | None:
        return dict(self.repositories).get(package)


@dataclass(frozen=True)
class BaseRegistry:
    """Where `bakegen pin` finds credentials for one registry of base images: the names of two
    environment variables (their values are read when pinning, never kept)."""

    name: str  # the registry as base images name it: docker.io, registry.example.com:5000
    user: str
    pwd: str
    path: KeyPath


@dataclass(frozen=True)
class DistroPick:
    """One item of a package's release-type list: a distro, or some of its versions."""

    distro: str
    versions: tuple[str, ...] | None  # None: every version under `releases`
    path: KeyPath


@dataclass(frozen=True)
class Build:
    """One entry of a package: a release type built on the distro releases listed."""

    release_type: str
    picks: tuple[DistroPick, ...]
    path: KeyPath

    @property
    def distros(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.distro for p in self.picks))


@dataclass(frozen=True)
class Package:
    """A package, or a variant of one (`variant` set, `name` is `<owner>-<variant>`)."""

    name: str
    parent: ParentRef | None
    python_versions: tuple[str, ...]
    python_from: KeyPath
    builds: tuple[Build, ...]
    tests: tuple[ImageTest, ...]
    path: KeyPath
    bake: tuple[BakeSetting, ...] = ()
    owner: str = ""  # the package a variant belongs to; the package itself otherwise
    variant: str | None = None
    tagging: Tagging = field(default_factory=Tagging)
    template: str | None = None  # its own template file, or folder of <release type> templates
    template_from: KeyPath = ()
    context: str | None = None  # its build context folder, relative to the workspace
    context_from: KeyPath = ()
    platforms: Narrowed = field(default_factory=Narrowed)

    @property
    def repository_key(self) -> str:
        """The name registries' `registry:` maps list this package's repositories by."""
        return self.tagging.repository or self.owner or self.name

    args: tuple[ArgRule, ...] = ()
    cuda_check: CudaCheck | None = None  # over its distro releases' own
    image_tags: ImageTagKeys = field(default_factory=ImageTagKeys)  # over its release types'
    gates: tuple[Gate, ...] = ()  # a variant's: its package's, then its own
    signing: bool | None = None  # False: its images are not signed; None: as the top level says
    signing_from: KeyPath = ()

    def build(self, release_type: str) -> Build | None:
        return next((b for b in self.builds if b.release_type == release_type), None)


@dataclass(frozen=True)
class DistroRelease:
    distro: str
    version: str
    templates_dir: str
    base_image: str
    add_to_tags: str
    multistage_image: bool
    header: str
    envars: Pairs
    cuda_prefix_url: str
    cuda_requires: str
    cuda_repo_url: str
    cuda_refs: tuple[str, ...]  # the CUDA versions named, or those whose components `cuda` equals
    cuda_by_components: bool  # `cuda` is a mapping of components (the `<<: *anchor` way)
    cudas: tuple[CudaVersion, ...]  # the known versions of cuda_refs, when CUDA is on
    platforms: tuple[str, ...]
    platforms_from: KeyPath
    python_versions: tuple[str, ...] | None  # the versions it offers, if it narrows them
    exclude_python: tuple[str, ...]
    os_id: str
    path: KeyPath
    bake: tuple[BakeSetting, ...] = ()
    cuda_install: str = REPOSITORY  # or TEMPLATE: the template installs CUDA its own way
    cuda_check: CudaCheck = NO_CHECK

    @property
    def distro_id(self) -> str:
        return f"{self.distro}{self.version}"

    @property
    def cuda_on(self) -> bool:
        if self.cuda_install == REPOSITORY:
            return bool(self.cuda_prefix_url)
        return bool(self.cuda_refs) or self.cuda_by_components


@dataclass(frozen=True)
class Manifest:
    version: str
    python_versions: tuple[str, ...]
    platforms: tuple[str, ...]
    cuda_repo_url: str
    cuda_repo_key: CudaKey
    verify: bool
    max_targets: int
    labels: Pairs
    secrets: tuple[Secret, ...]
    ci: CI
    workflow: Workflow
    registries: tuple[Registry, ...]
    base_registries: tuple[BaseRegistry, ...]
    cuda_versions: Mapping[str, CudaVersion]
    release_types: Mapping[str, ReleaseType]
    packages: Mapping[str, Package]
    releases: tuple[DistroRelease, ...]
    sources: Mapping[KeyPath, Location]
    files: tuple[str, ...]
    bake: tuple[BakeSetting, ...] = ()
    tag_variables: tuple[TagVariable, ...] = ()
    args: tuple[ArgRule, ...] = ()
    signing: Signing | None = None
    gates: tuple[Gate, ...] = ()

    def where(self, path: KeyPath) -> Location | None:
        """Where `path` is written, or its nearest written ancestor; None for a default."""
        return None if path[:1] == (DEFAULT,) else nearest(self.sources, path)

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.where(path), path, message)

    def bake_settings(
        self, package: str, release_type: str, release: DistroRelease
    ) -> tuple[BakeSetting, ...]:
        """The `bake:` values of one image: the top level's, then its release type's, package's
        and distro release's, each replacing an earlier one of the same attribute (of a map
        attribute: of the same key)."""
        merged: dict[tuple[str, str], BakeSetting] = {}
        for level in (
            self.bake,
            self.release_types[release_type].bake,
            self.packages[package].bake,
            release.bake,
        ):
            for setting in level:
                merged[(setting.attribute, setting.key or "")] = setting
        return tuple(merged[k] for k in sorted(merged))

    def image_platforms(
        self, package: str, release_type: str, release: DistroRelease
    ) -> tuple[tuple[str, ...], KeyPath | None]:
        """The platforms of a package's images of `release_type` on `release`: the distro
        release's, narrowed by the release type's and the package's `platforms`; with the key
        that left none, when one did."""
        platforms = release.platforms
        for level in (self.release_types[release_type].platforms, self.packages[package].platforms):
            if level.platforms is not None:
                platforms = tuple(p for p in platforms if p in level.platforms)
                if not platforms:
                    return (), level.path
        return platforms, None

    def distro_releases(self, distro: str) -> tuple[DistroRelease, ...]:
        return tuple(r for r in self.releases if r.distro == distro)

    def package_chain(self, name: str) -> tuple[str, ...]:
        """`name` and the packages it is built FROM, nearest first; stops at a cycle."""
        chain = [name]
        while (pkg := self.packages.get(chain[-1])) and pkg.parent:
            if pkg.parent.package not in self.packages or pkg.parent.package in chain:
                break
            chain.append(pkg.parent.package)
        return tuple(chain)

    def build_releases(self, build: Build) -> tuple[DistroRelease, ...]:
        """The distro releases `build` names, by distro and version."""
        wanted: dict[str, set[str] | None] = {}
        for pick in build.picks:
            if pick.versions is None or wanted.get(pick.distro, set()) is None:
                wanted[pick.distro] = None
            else:
                versions = wanted.setdefault(pick.distro, set())
                assert versions is not None
                versions.update(pick.versions)
        return tuple(
            release
            for distro in sorted(wanted)
            for release in sorted(self.distro_releases(distro), key=lambda r: r.version)
            if wanted[distro] is None or release.version in (wanted[distro] or ())
        )

    def excluded_pythons(self, release_type: str) -> set[str]:
        """The Python versions `release_type` and the types it is built FROM exclude."""
        rt = self.release_types[release_type]
        return {p for kind in rt.lineage for p in self.release_types[kind].exclude_python}

    def pythons(
        self, package: str, release: DistroRelease, release_type: str | None = None
    ) -> tuple[str, ...]:
        """The Python versions `package` builds on `release` (for `release_type`): its own
        list, narrowed by the packages it is built FROM, by what the distro release offers and
        excludes, and by what the release type excludes."""
        chosen = set(self.packages[package].python_versions)
        for parent in self.package_chain(package)[1:]:
            chosen &= set(self.packages[parent].python_versions)
        if release.python_versions is not None:
            chosen &= set(release.python_versions)
        chosen -= set(release.exclude_python)
        if release_type is not None:
            chosen -= self.excluded_pythons(release_type)
        return tuple(sorted(chosen, key=version_key))
