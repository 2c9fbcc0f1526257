"""Plan stage: a pure function from a validated manifest to an immutable Plan. No I/O."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from string import Formatter
from typing import Any

from bakegen import names
from bakegen.errors import KeyPath, ManifestError, Problem
from bakegen.layout import OUTPUT_DIR
from bakegen.load import Loaded
from bakegen.model import (
    Cuda,
    Dockerfile,
    Group,
    Image,
    Pairs,
    Plan,
    Secret,
    Tag,
    Text,
    Var,
    Verify,
)
from bakegen.schema import defaults
from bakegen.validate import PACKAGE_KEYS, lineage, release_types, resolve_cuda

OCI = "org.opencontainers.image."


@dataclass(frozen=True)
class _Release:
    """A distro release as the plan sees it."""

    distro: str
    version: str
    spec: dict[str, Any]

    @property
    def distro_id(self) -> str:
        return f"{self.distro}{self.version}"


def build_plan(loaded: Loaded, max_targets: int | None = None) -> Plan:
    """Expand the manifest into images, Dockerfiles and groups; raise on plan-level conflicts."""
    data = loaded.data
    dflt = defaults()
    types = release_types(data)
    cuda_deps: dict[str, dict[str, str]] = data.get("cuda_dependencies") or {}
    registries = _registries(data)
    images: dict[tuple[str, ...], Image] = {}
    dockerfiles: dict[str, Dockerfile] = {}
    secrets = tuple(Secret(s["id"], s.get("env"), s.get("src")) for s in data.get("secrets") or [])
    verify = bool(data.get("verify", dflt["verify"]))
    cells = list(_cells(loaded, types, cuda_deps, dflt))
    _check_size(loaded, cells, types, verify, max_targets)
    for cell in cells:
        parent = _parent_target(
            types, cell.chain, cell.level, cell.package, cell.parent_pkg, cell.release, cell.cuda
        )
        df = _dockerfile(
            data,
            dflt,
            cell.package,
            cell.kind,
            cell.release,
            cell.cuda,
            cell.cudas,
            cell.pythons,
            parent is not None,
            secrets,
        )
        dockerfiles.setdefault(df.path, df)
        for python in cell.pythons:
            image = _image(
                types,
                registries,
                cell.package,
                cell.kind,
                cell.release,
                python,
                cell.cuda,
                cell.cudas,
                df,
                parent,
            )
            images.setdefault(_identity(image), image)
    ordered = tuple(sorted(images.values(), key=_image_order))
    verifies = tuple(_verify(i) for i in ordered if i.push) if verify else ()
    groups = _groups(ordered, verifies)
    plan = Plan(
        images=ordered,
        dockerfiles=tuple(sorted(dockerfiles.values(), key=lambda d: d.path)),
        groups=groups,
        variables=(
            ("VERSION", str(data.get("version") or dflt["version"])),
            ("REVISION", ""),
            ("SOURCE", ""),
            *((g, "") for g in sorted({r["only_if"] for r in registries if r["only_if"]})),
        ),
        gates=tuple(sorted({r["only_if"] for r in registries if r["only_if"]})),
        labels=_labels(data),
        secrets=secrets,
        verifies=verifies,
    )
    problems = list(plan_problems(loaded, plan))
    if problems:
        raise ManifestError(problems)
    return plan


@dataclass(frozen=True)
class _Cell:
    """One Dockerfile's worth of the matrix: a package's release type (and CUDA) on a release."""

    package: str
    parent_pkg: str | None
    chain: list[str]
    level: int
    kind: str
    release: _Release
    cuda: Cuda | None
    cudas: list[Cuda]
    pythons: list[str]


def _cells(
    loaded: Loaded,
    types: dict[str, dict[str, Any]],
    cuda_deps: dict[str, dict[str, str]],
    dflt: dict[str, Any],
) -> Iterator[_Cell]:
    """Walk the matrix; raise with every package x release that is left with no Python."""
    data = loaded.data
    empty: list[Problem] = []
    for package in sorted(data["packages"]):
        spec = data["packages"][package]
        parent_pkg: str | None = spec.get("parent")
        for rtype in sorted(k for k in spec if k not in PACKAGE_KEYS):
            chain = [rtype] if parent_pkg else lineage(types, rtype)
            for release in _releases(data, spec[rtype]):
                cudas = _cudas(release, cuda_deps, dflt)
                pythons = _pythons(data, dflt, package, release)
                if not pythons:
                    empty.append(
                        loaded.problem(
                            ("packages", package, rtype),
                            f"no Python version left for {package} on {release.distro_id}: "
                            "the package's python_versions and the release's do not meet",
                        )
                    )
                for level, kind in enumerate(chain):
                    for cuda in cudas if _is_cuda(types, kind) else [None]:
                        yield _Cell(
                            package, parent_pkg, chain, level, kind, release, cuda, cudas, pythons
                        )
    if empty:
        raise ManifestError(empty)


def _check_size(
    loaded: Loaded,
    cells: list[_Cell],
    types: dict[str, dict[str, Any]],
    verify: bool,
    max_targets: int | None,
) -> None:
    """Refuse a matrix past the target limit before any image is built in memory."""
    data = loaded.data
    limit = (
        max_targets
        if max_targets is not None
        else int(data.get("max_targets") or defaults()["max_targets"])
    )
    seen: set[tuple[str, ...]] = set()
    count = 0
    for cell in cells:
        cuda = cell.cuda.version if cell.cuda else ""
        for python in cell.pythons:
            key = (cell.package, cell.kind, cell.release.distro_id, python, cuda)
            if key not in seen:
                seen.add(key)
                pushed = bool(types[cell.kind].get("push", True))
                count += 2 if pushed and verify else 1
    if count > limit:
        raise ManifestError(
            [
                loaded.problem(
                    ("packages",),
                    f"expands to {count} bake targets (with verify checks), more than the limit "
                    f"of {limit}; narrow the matrix, or raise it with `max_targets` or --max-targets",
                )
            ]
        )


def _registries(data: dict[str, Any]) -> list[dict[str, Any]]:
    repo = data.get("repository") or {}
    return [
        {"name": name, "only_if": spec.get("only_if") or None, "registry": spec["registry"]}
        for name, spec in sorted(repo.items())
    ]


def _releases(data: dict[str, Any], distros: list[str]) -> list[_Release]:
    out = []
    for distro in sorted(set(distros)):
        for version, spec in sorted(data["releases"][distro].items()):
            out.append(_Release(distro, version, spec))
    return out


def _is_cuda(types: dict[str, dict[str, Any]], kind: str) -> bool:
    return any(types[k].get("cuda") for k in lineage(types, kind))


def _pythons(
    data: dict[str, Any], dflt: dict[str, Any], package: str, release: _Release
) -> list[str]:
    """The package's Python versions, narrowed by its parent package and by the distro release."""
    spec = data["packages"][package]
    chosen = list(
        spec.get("python_versions") or data.get("python_versions") or dflt["python_versions"]
    )
    parent = spec.get("parent")
    if parent:
        inherited = _pythons(data, dflt, parent, release)
        chosen = [p for p in chosen if p in inherited]
    offered = release.spec.get("python_versions")
    if offered:
        chosen = [p for p in chosen if p in offered]
    excluded = release.spec.get("exclude_python") or []
    return sorted({p for p in chosen if p not in excluded}, key=names.version_key)


def _cudas(release: _Release, deps: dict[str, dict[str, str]], dflt: dict[str, Any]) -> list[Cuda]:
    versions = resolve_cuda(release.spec, deps)
    assert not isinstance(versions, str), versions
    out = []
    for version in versions:
        comps = deps[version]
        major, minor, _ = version.split(".")
        cudnn = next(((k, v) for k, v in comps.items() if k.startswith("cudnn")), None)
        prefix = str(release.spec["cuda_prefix_url"])
        out.append(
            Cuda(
                version=version,
                major=major,
                minor=minor,
                shortened=f"{major}.{minor}",
                components=tuple(
                    sorted((k, v) for k, v in comps.items() if not k.startswith("cudnn"))
                ),
                cudnn=cudnn,
                requires=str(release.spec.get("cuda_requires") or ""),
                prefix_url=prefix,
                repo_url=f"{str(release.spec.get('cuda_repo_url') or dflt['cuda_repo_url']).rstrip('/')}/{prefix}",
            )
        )
    return out


def _parent_target(
    types: dict[str, dict[str, Any]],
    chain: list[str],
    level: int,
    package: str,
    parent_pkg: str | None,
    release: _Release,
    cuda: Cuda | None,
) -> str | None:
    if parent_pkg:
        return names.target_name(parent_pkg, chain[0], release.distro_id, "{py}", _v(cuda))
    if level + 1 >= len(chain):
        return None
    parent = chain[level + 1]
    pcuda = cuda if _is_cuda(types, parent) else None
    return names.target_name(package, parent, release.distro_id, "{py}", _v(pcuda))


def _v(cuda: Cuda | None) -> str | None:
    return cuda.version if cuda else None


def _dockerfile(
    data: dict[str, Any],
    dflt: dict[str, Any],
    package: str,
    kind: str,
    release: _Release,
    cuda: Cuda | None,
    cudas: list[Cuda],
    pythons: list[str],
    from_parent: bool,
    secrets: tuple[Secret, ...],
) -> Dockerfile:
    spec = release.spec
    leaf = kind if cuda is None or len(cudas) < 2 else f"{kind}-cuda{cuda.version}"
    tdir = str(spec["templates_dir"]).rstrip("/")
    envars: Pairs = tuple(
        (k, v) for k, _, v in (e.partition("=") for e in spec.get("envars") or [])
    )
    return Dockerfile(
        path=f"{OUTPUT_DIR}/{package}/{release.distro_id}/{leaf}/Dockerfile",
        template=f"{tdir}/{kind}.Dockerfile.j2",
        templates_dir=tdir,
        package=package,
        release=kind,
        distro=release.distro,
        distro_version=release.version,
        distro_id=release.distro_id,
        base_image=str(spec["base_image"]),
        header=str(spec.get("header") or ""),
        envars=envars,
        python_versions=tuple(pythons),
        cuda=cuda,
        platforms=_platforms(data, dflt, spec, cuda),
        from_parent=from_parent,
        multistage_image=bool(spec.get("multistage_image", True)),
        secrets=tuple(s.id for s in secrets),
    )


def _platforms(
    data: dict[str, Any], dflt: dict[str, Any], spec: dict[str, Any], cuda: Cuda | None
) -> tuple[str, ...]:
    platforms = list(spec.get("platforms") or data.get("platforms") or dflt["platforms"])
    if cuda is not None:
        platforms = [p for p in platforms if p in ("linux/amd64", "linux/arm64")]
    return tuple(dict.fromkeys(platforms))


def _image(
    types: dict[str, dict[str, Any]],
    registries: list[dict[str, Any]],
    package: str,
    kind: str,
    release: _Release,
    python: str,
    cuda: Cuda | None,
    cudas: list[Cuda],
    df: Dockerfile,
    parent: str | None,
) -> Image:
    push = bool(types[kind].get("push", True))
    tags: tuple[Tag, ...] = ()
    if push:
        fields: dict[str, Text] = {
            "version": (Var("VERSION"),),
            "python": (python,),
            "suffix": (str(release.spec["add_to_tags"]),),
            "cuda": (cuda.version if cuda else "",),
            "cuda_short": (cuda.shortened if cuda else "",),
            "cuda_suffix": (f"-cuda{cuda.shortened}" if cuda and len(cudas) > 1 else "",),
            "distro": (release.distro_id,),
            "package": (package,),
            "release": (kind,),
        }
        tag = _format_tag(str(types[kind]["tag"]), fields)
        repos = [
            (r["name"], r["only_if"], r["registry"][package])
            for r in registries
            if package in r["registry"]
        ]
        if not repos:
            repos = [("local", None, package)]
        tags = tuple(Tag(name, gate, _join((f"{repo}:",), tag)) for name, gate, repo in repos)
    return Image(
        target=names.target_name(package, kind, release.distro_id, python, _v(cuda)),
        package=package,
        release=kind,
        distro=release.distro,
        distro_version=release.version,
        distro_id=release.distro_id,
        add_to_tags=str(release.spec["add_to_tags"]),
        os_id=str(
            release.spec.get("os_id")
            or defaults()["os_release_ids"].get(release.distro, release.distro)
        ),
        python=python,
        cuda=cuda,
        platforms=df.platforms,
        dockerfile=df.path,
        parent=parent.replace(names.python_slug("{py}"), names.python_slug(python))
        if parent
        else None,
        push=push,
        tags=tags,
        args=(("PYTHON_VERSION", python),),
    )


def _format_tag(fmt: str, fields: dict[str, Text]) -> Text:
    out: Text = ()
    for literal, field, _, _ in Formatter().parse(fmt):
        out = _join(out, (literal,))
        if field is not None:
            out = _join(out, fields[field])
    return out


def _join(a: Text, b: Text) -> Text:
    """Concatenate texts, merging adjacent literal strings and dropping empty ones."""
    out: list[str | Var] = list(a)
    for part in b:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + part
                continue
        out.append(part)
    return tuple(out)


def _identity(image: Image) -> tuple[str, ...]:
    cuda = image.cuda.version if image.cuda else ""
    return (image.package, image.release, image.distro_id, image.python, cuda)


def _image_order(image: Image) -> tuple[Any, ...]:
    return (
        image.package,
        image.distro,
        names.version_key(image.distro_version),
        names.version_key(image.python),
        image.parent is not None,
        image.release,
        names.version_key(image.cuda.version) if image.cuda else (),
    )


RESERVED_GROUPS = ("default", "verify")


def _verify(image: Image) -> Verify:
    return Verify(
        target=f"{image.target}-verify",
        image=image.target,
        platforms=image.platforms,
        args=(
            ("EXPECT_PYTHON", image.python),
            ("EXPECT_OS_ID", image.os_id),
            ("EXPECT_OS_VERSION", image.distro_version),
            ("EXPECT_CUDA", image.cuda.version if image.cuda else ""),
        ),
    )


def _groups(images: tuple[Image, ...], verifies: tuple[Verify, ...]) -> tuple[Group, ...]:
    pushed = [i for i in images if i.push]
    groups: dict[str, list[str]] = {"default": [i.target for i in pushed]}
    for attr in ("release", "package", "distro_id"):
        for image in pushed:
            groups.setdefault(names.slug(getattr(image, attr)), []).append(image.target)
    if verifies:
        groups["verify"] = [v.target for v in verifies]
    return tuple(Group(name, tuple(targets)) for name, targets in groups.items())


def _labels(data: dict[str, Any]) -> tuple[tuple[str, Text], ...]:
    labels: dict[str, Text] = {
        OCI + "version": (Var("VERSION"),),
        OCI + "revision": (Var("REVISION"),),
        OCI + "source": (Var("SOURCE"),),
    }
    for key, value in sorted((data.get("labels") or {}).items()):
        labels[key] = (value,)
    return tuple(labels.items())


def plan_problems(loaded: Loaded, plan: Plan) -> list[Problem]:
    """Conflicts only the expanded matrix shows: one tag or target name for two images."""
    problems: list[Problem] = []
    seen_tags: dict[tuple[str | Var, ...], Image] = {}
    for image in plan.images:
        where: KeyPath = ("packages", image.package, image.release)
        for tag in image.tags:
            other = seen_tags.setdefault(tag.text, image)
            if other is not image:
                problems.append(
                    loaded.problem(
                        where,
                        f"images {other.target} and {image.target} get the same tag "
                        f"{''.join(p if isinstance(p, str) else '${' + p.name + '}' for p in tag.text)}; "
                        "make the tag format or add_to_tags tell them apart",
                    )
                )
    dims: dict[str, str] = {}
    for kind, values in (
        ("release type", {i.release for i in plan.images if i.push}),
        ("package", {i.package for i in plan.images if i.push}),
        ("distro release", {names.slug(i.distro_id) for i in plan.images if i.push}),
    ):
        for value in sorted(values):
            name = names.slug(value)
            if (name in dims and dims[name] != kind) or name in RESERVED_GROUPS:
                problems.append(
                    loaded.problem(
                        ("packages",),
                        f"bake group '{name}' would stand for a {dims.get(name, 'group')} "
                        f"and a {kind}; rename one",
                    )
                )
            dims[name] = kind
    by_target: dict[str, Image] = {}
    for image in plan.images:
        other = by_target.setdefault(image.target, image)
        if other is not image:
            problems.append(
                loaded.problem(
                    ("releases", image.distro),
                    f"two images get the bake target name {image.target}; rename a distro or version",
                )
            )
    targets = set(by_target) | {v.target for v in plan.verifies}
    for group in plan.groups:
        if group.name in targets:
            problems.append(
                loaded.problem(("packages",), f"'{group.name}' is both a group and a target")
            )
    return problems
