"""The typed manifest: the schema-checked data as frozen records, built once.

Defaults are merged here and nowhere else. Every record keeps the key path it was written at
(`path`), and values resolved from elsewhere keep theirs (`*_from`), so `where()` gives their
file:line:col, through `<<:` anchors and list aliases too (the loader records the line where a
merged value is written). A path starting with DEFAULT names one of bakegen's defaults.

Nothing after this stage handles the manifest as a dict. The words: a *distro release* is one
version of a distro under `releases:` (debian 12); a *release type* is a kind of image under
`release_types:` (runtime, devel, cudnn).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bakegen import names
from bakegen.errors import KeyPath, Location, Problem
from bakegen.load import Loaded
from bakegen.model import CI, Attestations, BakeSetting, Cache, CudaKey, Cudnn, Pairs, Secret
from bakegen.text import nearest

# The first part of the origin of a value that comes from bakegen's defaults, not the manifest.
DEFAULT = "<default>"
# Keys of a package that are not release types.
PACKAGE_KEYS = ("python_versions", "parent", "tests", "bake")
# cuDNN is the one component of a CUDA version whose name starts with this.
CUDNN_PREFIX = "cudnn"
# The platforms CUDA images are built for (NVIDIA's x86_64 and sbsa repositories).
CUDA_PLATFORMS = ("linux/amd64", "linux/arm64")
# Architecture names BuildKit reads as another (containerd's platforms.Normalize).
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
}
# Variants that are an architecture's default, which BuildKit drops.
_DEFAULT_VARIANTS = {("arm64", "v8"), ("arm64", "8"), ("amd64", "v1")}


def normalize_platform(platform: str) -> str:
    """`platform` as BuildKit reads it: `linux/aarch64` and `linux/arm64/v8` are `linux/arm64`."""
    os_name, _, rest = platform.partition("/")
    arch, _, variant = rest.partition("/")
    arch, implied = _ARCH_ALIASES.get(arch, (arch, ""))
    variant = variant or implied
    if variant.isdigit():
        variant = f"v{variant}"
    if (arch, variant) in _DEFAULT_VARIANTS:
        variant = ""
    return "/".join(p for p in (os_name, arch, variant) if p)


def cuda_key(value: str) -> CudaKey:
    """`cuda_repo_key` read: `./path` is a workspace file, `http(s)://...` a URL, else a name."""
    if value.startswith("./"):
        return CudaKey(file=value[2:])
    if value.startswith(("http://", "https://")):
        return CudaKey(url=value)
    return CudaKey(name=value)


def split_cudnn(components: Pairs) -> tuple[Pairs, tuple[tuple[str, str], ...]]:
    """A CUDA version's components: (the others, the cuDNN ones). The one home of that rule."""
    others = tuple(c for c in components if not c[0].startswith(CUDNN_PREFIX))
    cudnn = tuple(c for c in components if c[0].startswith(CUDNN_PREFIX))
    return others, cudnn


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
class Where:
    """Which images something applies to: every field given must match."""

    package: str | None = None
    release_type: str | None = None
    distro: str | None = None
    distro_version: str | None = None
    python: str | None = None
    cuda: str | None = None  # X.Y or X.Y.Z


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
    name: str
    parent: str | None
    python_versions: tuple[str, ...]
    python_from: KeyPath
    builds: tuple[Build, ...]
    tests: tuple[ImageTest, ...]
    path: KeyPath
    bake: tuple[BakeSetting, ...] = ()

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

    @property
    def distro_id(self) -> str:
        return f"{self.distro}{self.version}"

    @property
    def cuda_on(self) -> bool:
        return bool(self.cuda_prefix_url)


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
    registries: tuple[Registry, ...]
    base_registries: tuple[BaseRegistry, ...]
    cuda_versions: Mapping[str, CudaVersion]
    release_types: Mapping[str, ReleaseType]
    packages: Mapping[str, Package]
    releases: tuple[DistroRelease, ...]
    sources: Mapping[KeyPath, Location]
    files: tuple[str, ...]
    bake: tuple[BakeSetting, ...] = ()

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

    def distro_releases(self, distro: str) -> tuple[DistroRelease, ...]:
        return tuple(r for r in self.releases if r.distro == distro)

    def package_chain(self, name: str) -> tuple[str, ...]:
        """`name` and the packages it is built FROM, nearest first; stops at a cycle."""
        chain = [name]
        while (pkg := self.packages.get(chain[-1])) and pkg.parent in self.packages:
            if pkg.parent is None or pkg.parent in chain:
                break
            chain.append(pkg.parent)
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
        return tuple(sorted(chosen, key=names.version_key))


def build_manifest(loaded: Loaded, defaults: Mapping[str, Any]) -> Manifest:
    """The typed manifest of schema-checked data, with `defaults` merged in."""
    data = loaded.data
    top_pythons = _versions(data.get("python_versions") or defaults["python_versions"])
    top_platforms_from: KeyPath = (
        ("platforms",) if data.get("platforms") else (DEFAULT, "platforms")
    )
    top_platforms = _platforms(data.get("platforms") or defaults["platforms"])
    cuda_repo_url = str(data.get("cuda_repo_url") or defaults["cuda_repo_url"]).rstrip("/")
    cuda_versions = {
        str(v): _cuda_version(str(v), comps or {})
        for v, comps in (data.get("cuda_dependencies") or {}).items()
    }
    releases = tuple(
        _distro_release(
            str(distro),
            str(version),
            spec,
            cuda_versions,
            top_platforms,
            top_platforms_from,
            cuda_repo_url,
            defaults,
        )
        for distro, versions in data["releases"].items()
        for version, spec in versions.items()
    )
    top_python_from: KeyPath = (
        ("python_versions",) if data.get("python_versions") else (DEFAULT, "python_versions")
    )
    return Manifest(
        version=str(data.get("version") or defaults["version"]),
        python_versions=top_pythons,
        platforms=top_platforms,
        cuda_repo_url=cuda_repo_url,
        cuda_repo_key=cuda_key(str(data["cuda_repo_key"]))
        if data.get("cuda_repo_key")
        else CudaKey(),
        verify=bool(data.get("verify", defaults["verify"])),
        max_targets=int(data.get("max_targets") or defaults["max_targets"]),
        labels=tuple(sorted((str(k), str(v)) for k, v in (data.get("labels") or {}).items())),
        secrets=tuple(
            Secret(s["id"], s.get("env"), s.get("src")) for s in data.get("secrets") or []
        ),
        ci=_ci(data),
        registries=tuple(
            Registry(
                name=name,
                only_if=spec.get("only_if") or None,
                user=spec.get("user") or None,
                pwd=spec.get("pwd") or None,
                repositories=tuple((str(p), str(r)) for p, r in spec["registry"].items()),
                path=("repository", name),
            )
            for name, spec in sorted((data.get("repository") or {}).items())
        ),
        base_registries=tuple(
            BaseRegistry(str(name), spec["user"], spec["pwd"], ("base_registries", str(name)))
            for name, spec in sorted((data.get("base_registries") or {}).items())
        ),
        cuda_versions=cuda_versions,
        release_types=_release_types(data.get("release_types") or {}, defaults),
        packages={
            name: _package(name, spec, top_pythons, top_python_from)
            for name, spec in sorted(data["packages"].items())
        },
        releases=releases,
        sources=dict(loaded.sources),
        files=tuple(loaded.files),
        bake=bake_settings(data.get("bake"), ("bake",)),
    )


def bake_settings(spec: Any, path: KeyPath) -> tuple[BakeSetting, ...]:
    """A `bake:` mapping as settings: a map attribute gives one per key."""
    out: list[BakeSetting] = []
    for attribute, value in (spec or {}).items() if isinstance(spec, dict) else ():
        where = (*path, attribute)
        if isinstance(value, dict):
            out += [BakeSetting(attribute, str(k), str(v), (*where, k)) for k, v in value.items()]
        elif isinstance(value, list):
            out.append(BakeSetting(attribute, None, tuple(str(v) for v in value), where))
        elif isinstance(value, bool):
            out.append(BakeSetting(attribute, None, value, where))
        else:
            out.append(BakeSetting(attribute, None, str(value), where))
    return tuple(out)


def _ci(data: Mapping[str, Any]) -> CI:
    cache = data.get("cache") or {}
    attest = data.get("attestations") or {}
    return CI(
        cache=Cache(
            str(cache["type"]),
            ref=cache.get("ref"),
            dir=str(cache["dir"]).rstrip("/") if cache.get("dir") else None,
        )
        if cache and cache["type"] != "none"
        else None,
        attestations=Attestations(
            sbom=bool(attest.get("sbom", False)), provenance=attest.get("provenance")
        ),
        metadata_action=bool(data.get("metadata_action", False)),
    )


def _versions(values: list[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for v in values))


def _platforms(values: list[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalize_platform(str(v)) for v in values))


def _cuda_version(version: str, components: Mapping[str, Any]) -> CudaVersion:
    comps = tuple(sorted((str(k), str(v)) for k, v in components.items()))
    others, cudnn = split_cudnn(comps)
    major, minor, *_ = [*version.split("."), "", ""]
    first = cudnn[0] if cudnn else None
    return CudaVersion(
        version=version,
        major=major,
        minor=minor,
        components=others,
        cudnn=Cudnn(first[0], first[1], first[0][len(CUDNN_PREFIX) :]) if first else None,
        cudnn_names=tuple(name for name, _ in cudnn),
        path=("cuda_dependencies", version),
    )


def _release_types(own: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, ReleaseType]:
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in defaults["release_types"].items()}
    for name, spec in own.items():
        merged.setdefault(name, {}).update(spec)

    def lineage(name: str) -> tuple[str, ...]:
        chain = [name]
        while (parent := merged[chain[-1]].get("parent")) in merged and parent not in chain:
            chain.append(parent)
        return tuple(chain)

    return {
        name: ReleaseType(
            name=name,
            parent=spec.get("parent"),
            push=bool(spec.get("push", True)),
            cuda=bool(spec.get("cuda", False)),
            tag=spec.get("tag"),
            aliases=tuple(
                Alias(str(a["tag"]), _where(a["where"]), ("release_types", name, "aliases", i))
                for i, a in enumerate(spec.get("aliases") or [])
            ),
            exclude_python=_versions(spec.get("exclude_python") or []),
            parent_from=("release_types", name, "parent")
            if "parent" in own.get(name, {})
            else (DEFAULT, "release_types", name, "parent"),
            lineage=lineage(name),
            needs_cuda=any(merged[k].get("cuda") for k in lineage(name)),
            path=("release_types", name) if name in own else (DEFAULT, "release_types", name),
            bake=bake_settings(spec.get("bake"), ("release_types", name, "bake")),
        )
        for name, spec in merged.items()
    }


def _package(
    name: str, spec: Mapping[str, Any], top_pythons: tuple[str, ...], top_from: KeyPath
) -> Package:
    path: KeyPath = ("packages", name)
    own = spec.get("python_versions")
    return Package(
        name=name,
        parent=spec.get("parent"),
        python_versions=_versions(own) if own else top_pythons,
        python_from=(*path, "python_versions") if own else top_from,
        builds=tuple(
            Build(rtype, _picks(distros, (*path, rtype)), (*path, rtype))
            for rtype, distros in sorted(spec.items())
            if rtype not in PACKAGE_KEYS
        ),
        tests=tuple(
            ImageTest(
                name=str(test["name"]),
                run=str(test["run"]),
                gpu=bool(test.get("gpu", False)),
                where=_where(test.get("where") or {}),
                path=(*path, "tests", i),
            )
            for i, test in enumerate(spec.get("tests") or [])
        ),
        path=path,
        bake=bake_settings(spec.get("bake"), (*path, "bake")),
    )


def _where(spec: Mapping[str, Any]) -> Where:
    return Where(**{k: str(v) for k, v in spec.items()})


def _picks(items: list[Any], path: KeyPath) -> tuple[DistroPick, ...]:
    picks: list[DistroPick] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            picks.extend(
                DistroPick(str(d), _versions(v), (*path, index, str(d))) for d, v in item.items()
            )
        else:
            picks.append(DistroPick(str(item), None, (*path, index)))
    return tuple(picks)


def _distro_release(
    distro: str,
    version: str,
    spec: Mapping[str, Any],
    cuda_versions: Mapping[str, CudaVersion],
    top_platforms: tuple[str, ...],
    top_platforms_from: KeyPath,
    cuda_repo_url: str,
    defaults: Mapping[str, Any],
) -> DistroRelease:
    path: KeyPath = ("releases", distro, version)
    cuda = spec.get("cuda")
    by_components = isinstance(cuda, dict)
    if isinstance(cuda, dict):
        wanted = tuple(sorted((str(k), str(v)) for k, v in cuda.items()))
        refs = tuple(v for v, c in cuda_versions.items() if c.all_components == wanted)
    elif cuda is None:
        refs = ()
    else:
        refs = tuple(str(v) for v in ([cuda] if isinstance(cuda, (str, int, float)) else cuda))
    prefix = str(spec.get("cuda_prefix_url") or "")
    offered = spec.get("python_versions")
    return DistroRelease(
        distro=distro,
        version=version,
        templates_dir=str(spec.get("templates_dir") or "").rstrip("/"),
        base_image=str(spec.get("base_image") or ""),
        add_to_tags=str(spec.get("add_to_tags") or ""),
        multistage_image=bool(spec.get("multistage_image", True)),
        header=str(spec.get("header") or ""),
        envars=tuple(
            (k, v) for k, _, v in (str(e).partition("=") for e in spec.get("envars") or [])
        ),
        cuda_prefix_url=prefix,
        cuda_requires=str(spec.get("cuda_requires") or ""),
        cuda_repo_url=cuda_repo_url,
        cuda_refs=refs,
        cuda_by_components=by_components,
        cudas=tuple(cuda_versions[v] for v in dict.fromkeys(refs) if v in cuda_versions and prefix)[
            : 1 if by_components else None
        ],
        platforms=_platforms(spec["platforms"]) if spec.get("platforms") else top_platforms,
        platforms_from=(*path, "platforms") if spec.get("platforms") else top_platforms_from,
        python_versions=_versions(offered) if offered else None,
        exclude_python=_versions(spec.get("exclude_python") or []),
        os_id=str(spec.get("os_id") or defaults["os_release_ids"].get(distro, distro)),
        path=path,
        bake=bake_settings(spec.get("bake"), (*path, "bake")),
    )
