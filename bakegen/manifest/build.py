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
from typing import Any

from bakegen.errors import KeyPath
from bakegen.load.sourcemap import Loaded
from bakegen.manifest.args import arg_rules
from bakegen.manifest.cuda_install import NO_CHECK, REPOSITORY, cuda_check
from bakegen.manifest.image_tags import image_tag_keys
from bakegen.manifest.packages import build_packages, narrowed, where_of
from bakegen.manifest.platforms import CUDNN_PREFIX, cuda_key, normalize_platform, split_cudnn
from bakegen.manifest.records import (
    DEFAULT,
    Alias,
    BaseRegistry,
    CudaVersion,
    DistroRelease,
    Manifest,
    Registry,
    ReleaseType,
)
from bakegen.manifest.tag_variables import tag_variables
from bakegen.manifest.trust import gates_of, signing_of
from bakegen.manifest.values import (
    CI,
    Attestations,
    Cache,
    CudaKey,
    Cudnn,
    Secret,
    Workflow,
    bake_settings,
    versions,
)


def build_manifest(loaded: Loaded, defaults: Mapping[str, Any]) -> Manifest:
    """The typed manifest of schema-checked data, with `defaults` merged in."""
    data = loaded.data
    top_pythons = versions(data.get("python_versions") or defaults["python_versions"])
    cuda_versions = {
        str(v): _cuda_version(str(v), comps or {})
        for v, comps in (data.get("cuda_dependencies") or {}).items()
    }
    return Manifest(
        version=str(data.get("version") or defaults["version"]),
        python_versions=top_pythons,
        platforms=_platforms(data.get("platforms") or defaults["platforms"]),
        cuda_repo_url=_cuda_repo_url(data, defaults),
        cuda_repo_key=cuda_key(str(data["cuda_repo_key"]))
        if data.get("cuda_repo_key")
        else CudaKey(),
        verify=bool(data.get("verify", defaults["verify"])),
        max_targets=int(data.get("max_targets") or defaults["max_targets"]),
        labels=tuple(sorted((str(k), str(v)) for k, v in (data.get("labels") or {}).items())),
        secrets=tuple(
            Secret(s["id"], s.get("env"), s.get("src")) for s in data.get("secrets") or []
        ),
        ci=_ci(data, defaults),
        registries=_registries(data),
        base_registries=tuple(
            BaseRegistry(str(name), spec["user"], spec["pwd"], ("base_registries", str(name)))
            for name, spec in sorted((data.get("base_registries") or {}).items())
        ),
        cuda_versions=cuda_versions,
        release_types=_release_types(data.get("release_types") or {}, defaults),
        packages=build_packages(
            data["packages"],
            top_pythons,
            _from(data, "python_versions"),
            defaults["entries"]["packages.*.tests.-"],
        ),
        releases=_releases(data, cuda_versions, defaults),
        sources=dict(loaded.sources),
        files=tuple(loaded.files),
        bake=bake_settings(data.get("bake"), ("bake",)),
        tag_variables=tag_variables(data, defaults),
        args=arg_rules(data.get("args"), ("args",), where_of),
        workflow=_workflow(data.get("workflow") or {}, defaults["workflow"]),
        signing=signing_of(data.get("signing")),
        gates=gates_of(data.get("gates"), ("gates",)),
    )


def _from(data: Mapping[str, Any], key: str) -> KeyPath:
    """Where a top-level value comes from: the manifest, or bakegen's defaults."""
    return (key,) if data.get(key) else (DEFAULT, key)


def _cuda_repo_url(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    return str(data.get("cuda_repo_url") or defaults["cuda_repo_url"]).rstrip("/")


def _registries(data: Mapping[str, Any]) -> tuple[Registry, ...]:
    return tuple(
        Registry(
            name=name,
            only_if=spec.get("only_if") or None,
            user=spec.get("user") or None,
            pwd=spec.get("pwd") or None,
            repositories=tuple((str(p), str(r)) for p, r in spec["registry"].items()),
            path=("repository", name),
        )
        for name, spec in sorted((data.get("repository") or {}).items())
    )


def _releases(
    data: Mapping[str, Any], cuda_versions: Mapping[str, CudaVersion], defaults: Mapping[str, Any]
) -> tuple[DistroRelease, ...]:
    """Every distro release, in the order the manifest writes them."""
    platforms = _platforms(data.get("platforms") or defaults["platforms"])
    return tuple(
        _distro_release(
            str(distro),
            str(version),
            spec,
            cuda_versions,
            (platforms, _from(data, "platforms")),
            _cuda_repo_url(data, defaults),
            defaults,
        )
        for distro, versions in data["releases"].items()
        for version, spec in versions.items()
    )


def _ci(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> CI:
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
            sbom=bool(attest.get("sbom", defaults["attestations"]["sbom"])),
            provenance=attest.get("provenance"),
        ),
        metadata_action=bool(data.get("metadata_action", defaults["metadata_action"])),
    )


def _workflow(spec: Mapping[str, Any], defaults: Mapping[str, Any]) -> Workflow:
    own = {normalize_platform(str(p)): str(r) for p, r in (spec.get("runners") or {}).items()}
    return Workflow(
        events=tuple(dict.fromkeys(spec.get("events") or defaults["events"])),
        schedule=tuple(dict.fromkeys(str(c) for c in spec.get("schedule") or [])),
        timeouts=tuple((str(k), int(v)) for k, v in (spec.get("timeouts") or {}).items()),
        runners=tuple({**defaults["runners"], **own}.items()),
        named=tuple(own),
        steps=tuple(dict(s) for s in spec.get("steps") or []),
        staging=str(spec["staging"]) if spec.get("staging") else None,
    )


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
    each = defaults["entries"]["release_types.*"]
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
            push=bool(spec.get("push", each["push"])),
            cuda=bool(spec.get("cuda", each["cuda"])),
            tag=spec.get("tag"),
            aliases=tuple(
                Alias(str(a["tag"]), where_of(a["where"]), ("release_types", name, "aliases", i))
                for i, a in enumerate(spec.get("aliases") or [])
            ),
            exclude_python=versions(spec.get("exclude_python") or []),
            parent_from=("release_types", name, "parent")
            if "parent" in own.get(name, {})
            else (DEFAULT, "release_types", name, "parent"),
            lineage=lineage(name),
            needs_cuda=any(merged[k].get("cuda") for k in lineage(name)),
            path=("release_types", name) if name in own else (DEFAULT, "release_types", name),
            bake=bake_settings(spec.get("bake"), ("release_types", name, "bake")),
            platforms=narrowed(spec.get("platforms"), ("release_types", name, "platforms")),
            image_tags=image_tag_keys(spec, ("release_types", name), where_of),
            gates=gates_of(spec.get("gates"), ("release_types", name, "gates")),
        )
        for name, spec in merged.items()
    }


def _distro_release(
    distro: str,
    version: str,
    spec: Mapping[str, Any],
    cuda_versions: Mapping[str, CudaVersion],
    top_platforms: tuple[tuple[str, ...], KeyPath],
    cuda_repo_url: str,
    defaults: Mapping[str, Any],
) -> DistroRelease:
    path: KeyPath = ("releases", distro, version)
    each = defaults["entries"]["releases.*.*"]
    by_components = isinstance(spec.get("cuda"), dict)
    refs = _cuda_refs(spec.get("cuda"), cuda_versions)
    prefix = _text(spec, "cuda_prefix_url")
    install = str(spec.get("cuda_install") or each["cuda_install"])
    offered = spec.get("python_versions")
    own_platforms = spec.get("platforms")
    return DistroRelease(
        distro=distro,
        version=version,
        templates_dir=_text(spec, "templates_dir").rstrip("/"),
        base_image=_text(spec, "base_image"),
        add_to_tags=_text(spec, "add_to_tags"),
        multistage_image=bool(spec.get("multistage_image", each["multistage_image"])),
        header=_text(spec, "header"),
        envars=tuple(
            (k, v) for k, _, v in (str(e).partition("=") for e in spec.get("envars") or [])
        ),
        cuda_prefix_url=prefix,
        cuda_requires=_text(spec, "cuda_requires"),
        cuda_repo_url=cuda_repo_url,
        cuda_refs=refs,
        cuda_by_components=by_components,
        cudas=_release_cudas(refs, cuda_versions, by_components, install, prefix),
        platforms=_platforms(own_platforms) if own_platforms else top_platforms[0],
        platforms_from=(*path, "platforms") if own_platforms else top_platforms[1],
        python_versions=versions(offered) if offered else None,
        exclude_python=versions(spec.get("exclude_python") or []),
        os_id=str(spec.get("os_id") or defaults["os_release_ids"].get(distro, distro)),
        path=path,
        bake=bake_settings(spec.get("bake"), (*path, "bake")),
        cuda_install=install,
        cuda_check=cuda_check(spec.get("cuda_check")) or cuda_check(each["cuda_check"]) or NO_CHECK,
    )


def _text(spec: Mapping[str, Any], key: str) -> str:
    """A text value of a spec; empty when it is not given."""
    return str(spec.get(key) or "")


def _cuda_refs(cuda: Any, cuda_versions: Mapping[str, CudaVersion]) -> tuple[str, ...]:
    """The cuda_dependencies a release's `cuda` names: versions, or the entries whose
    components equal the components it gives."""
    if isinstance(cuda, dict):
        wanted = tuple(sorted((str(k), str(v)) for k, v in cuda.items()))
        return tuple(v for v, c in cuda_versions.items() if c.all_components == wanted)
    if cuda is None:
        return ()
    return tuple(str(v) for v in ([cuda] if isinstance(cuda, (str, int, float)) else cuda))


def _release_cudas(
    refs: tuple[str, ...],
    cuda_versions: Mapping[str, CudaVersion],
    by_components: bool,
    install: str,
    prefix: str,
) -> tuple[CudaVersion, ...]:
    """The CUDA versions a release builds. From NVIDIA's repository: only with its
    cuda_prefix_url, and only versions under cuda_dependencies. Installed by the template: a
    version cuda_dependencies lacks has no components."""
    if install == REPOSITORY:
        return _cudas(refs, cuda_versions, by_components) if prefix else ()
    known = {v: _cuda_version(v, {}) for v in refs if v not in cuda_versions}
    return _cudas(refs, {**known, **cuda_versions}, by_components)


def _cudas(
    refs: tuple[str, ...], cuda_versions: Mapping[str, CudaVersion], by_components: bool
) -> tuple[CudaVersion, ...]:
    """The CUDA versions a release builds: those it names that are declared, once each (by
    components: the first)."""
    found = tuple(cuda_versions[v] for v in dict.fromkeys(refs) if v in cuda_versions)
    return found[:1] if by_components else found
