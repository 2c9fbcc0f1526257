"""Check stage: the rules on packages, their distro picks, CUDA and Python versions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bakegen.checks.formats import _format_problems
from bakegen.errors import KeyPath, Problem, did_you_mean
from bakegen.manifest.cuda_install import REPOSITORY
from bakegen.manifest.image_keys import ParentRef
from bakegen.manifest.platforms import CUDA_PLATFORMS
from bakegen.manifest.records import Build, DistroPick, DistroRelease, Manifest, Package
from bakegen.plan.cuda import CUDA_FIELDS
from bakegen.plan.names import version_key


def _package_problems(m: Manifest) -> Iterator[Problem]:
    distros = sorted({r.distro for r in m.releases})
    yield from variant_clashes(m)
    for package in m.packages.values():
        yield from _test_problems(m, package)
        yield from _parent_problems(m, package)
        ref = package.parent
        known = ref is not None and ref.release_type in (None, *m.release_types)
        parent = m.packages.get(ref.package) if ref and known and not _pins_distro(ref) else None
        for build in package.builds:
            if build.release_type not in m.release_types:
                yield m.problem(
                    build.path,
                    f"unknown release type '{build.release_type}'; declare it under "
                    f"`release_types`{did_you_mean(build.release_type, sorted(m.release_types))}",
                )
            parent_type = (ref.release_type if ref else None) or build.release_type
            parent_build = parent.build(parent_type) if parent else None
            theirs = set(m.build_releases(parent_build)) if parent_build else set()
            for pick in build.picks:
                if pick.distro not in distros:
                    yield m.problem(
                        pick.path,
                        f"no distro '{pick.distro}' under `releases`"
                        f"{did_you_mean(pick.distro, distros)}",
                    )
                    continue
                yield from _pick_version_problems(m, pick)
                if parent:
                    yield from _parent_pick_problems(m, parent, parent_type, pick, theirs)
                yield from _platform_problems(m, package, build, pick)


def _test_problems(m: Manifest, package: Package) -> Iterator[Problem]:
    """A package's tests have names of their own."""
    named: set[str] = set()
    for test in package.tests:
        if test.name in named:
            yield m.problem((*test.path, "name"), f"test '{test.name}' is declared twice")
        named.add(test.name)


def variant_clashes(m: Manifest) -> Iterator[Problem]:
    """A variant's name, `<package>-<variant>`, is no other package's (or variant's)."""
    for path in m.sources:
        if len(path) == 4 and path[0] == "packages" and path[2] == "variants":
            name = f"{path[1]}-{path[3]}"
            found = m.packages.get(name)
            if found is not None and found.path != path:
                yield m.problem(
                    path,
                    f"variant '{path[3]}' of {path[1]} is named {name}, as "
                    f"{'.'.join(map(str, found.path))} is; rename one",
                )


def _pins_distro(ref: ParentRef) -> bool:
    """Whether a parent names the distro (release) of its images: then the plan tells."""
    return ref.where.distro is not None or ref.where.distro_version is not None


def _parent_problems(m: Manifest, package: Package) -> Iterator[Problem]:
    """A package's parent is another package (or variant) of a known release type, and
    parents form no cycle."""
    ref = package.parent
    if ref is None:
        return
    if ref.package == package.name:
        yield m.problem(ref.path, "a package cannot be its own parent")
    elif ref.package not in m.packages:
        others = sorted(set(m.packages) - {package.name})
        yield m.problem(
            ref.path, f"no other package '{ref.package}'{did_you_mean(ref.package, others)}"
        )
    elif ref.release_type is not None and ref.release_type not in m.release_types:
        yield m.problem(
            (*ref.path, "release_type"),
            f"unknown release type '{ref.release_type}'"
            f"{did_you_mean(ref.release_type, sorted(m.release_types))}",
        )
    elif _in_cycle(m, package):
        yield m.problem(ref.path, "packages' parents form a cycle; break it")


def _in_cycle(m: Manifest, package: Package) -> bool:
    """Whether some image of `package` is, through parents, built FROM itself."""
    for build in package.builds:
        start = (package.name, build.release_type)
        seen: set[tuple[str, str]] = set()
        node: tuple[str, str] | None = start
        while node is not None and node not in seen:
            seen.add(node)
            node = _parent_node(m, node)
            if node == start:
                return True
    return False


def _parent_node(m: Manifest, node: tuple[str, str]) -> tuple[str, str] | None:
    """The (package, release type) the images of `node` are built FROM, or None."""
    owner = m.packages.get(node[0])
    kind = m.release_types.get(node[1])
    if owner is None or kind is None:
        return None
    if owner.parent is not None:
        return owner.parent.package, owner.parent.release_type or node[1]
    return (node[0], kind.parent) if kind.parent is not None else None


def _platform_problems(
    m: Manifest, package: Package, build: Build, pick: DistroPick
) -> Iterator[Problem]:
    """Every image of a pick keeps a platform once `platforms` keys narrow its release's."""
    if build.release_type not in m.release_types:
        return
    for release in m.distro_releases(pick.distro):
        if pick.versions is not None and release.version not in pick.versions:
            continue
        _, emptied = m.image_platforms(package.name, build.release_type, release)
        if emptied is not None:
            yield m.problem(
                emptied,
                f"leaves {package.name} {build.release_type} on {release.distro_id} no "
                f"platform: its distro release builds only {list(release.platforms)}; "
                "list one of them, or leave that distro out",
            )
            return


def _pick_version_problems(m: Manifest, pick: DistroPick) -> Iterator[Problem]:
    """The versions a pick names are releases of its distro."""
    known = [r.version for r in m.distro_releases(pick.distro)]
    for index, version in enumerate(pick.versions or ()):
        if version not in known:
            yield m.problem(
                (*pick.path, index),
                f"no version '{version}' of {pick.distro} under `releases` (known: "
                f"{', '.join(known)}){did_you_mean(version, known)}",
            )


def _parent_pick_problems(
    m: Manifest, parent: Package, kind: str, pick: DistroPick, theirs: set[DistroRelease]
) -> Iterator[Problem]:
    """The parent package builds its release type `kind` on the releases a pick names
    (`theirs`: the releases it builds that type on)."""
    mine = m.distro_releases(pick.distro)
    missing = [
        r for r in mine if r not in theirs and (pick.versions is None or r.version in pick.versions)
    ]
    what = f"parent package '{parent.name}' has no {kind} image on '{pick.distro}'"
    if missing and len(missing) == len(mine) and pick.versions is None:
        yield m.problem(pick.path, what)
    elif missing:
        yield m.problem(pick.path, f"{what} {', '.join(r.version for r in missing)}")


def used_release_types(m: Manifest, *, with_parents: bool = False) -> dict[DistroRelease, set[str]]:
    """Distro release -> the (known) release types packages build on it; `with_parents` adds
    the types those are built FROM (what the distro release's templates must provide)."""
    used: dict[DistroRelease, set[str]] = {}
    for package in m.packages.values():
        for build in package.builds:
            rt = m.release_types.get(build.release_type)
            if rt is None:
                continue
            if package.template is not None:
                continue  # its own template, not the distro release's
            kinds = set(rt.lineage) if with_parents and not package.parent else {rt.name}
            for release in m.build_releases(build):
                used.setdefault(release, set()).update(kinds)
    return used


def _distro_release_problems(m: Manifest) -> Iterator[Problem]:
    used = used_release_types(m)
    for release in m.releases:
        kinds = used.get(release, set())
        yield from _cuda_problems(m, release, kinds)
        yield from _cuda_requires_problems(m, release)
        if not kinds:
            continue
        for key in ("templates_dir", "base_image", "add_to_tags"):
            if not getattr(release, key):
                yield m.problem(
                    release.path, f"`{key}` must be set: packages build {sorted(kinds)} on it"
                )


def _cuda_problems(m: Manifest, release: DistroRelease, kinds: set[str]) -> Iterator[Problem]:
    path: KeyPath = (*release.path, "cuda")
    needs_cuda = sorted(k for k in kinds if m.release_types[k].needs_cuda)
    if release.cuda_on and release.cuda_by_components and len(release.cuda_refs) != 1:
        if not release.cuda_refs:
            yield m.problem(
                path,
                "these components match no entry of cuda_dependencies; "
                "merge one with <<: *anchor or name the version (cuda: 12.4.1)",
            )
        else:
            yield m.problem(
                path,
                f"these components equal the cuda_dependencies entries {list(release.cuda_refs)}; "
                f"name the version instead (cuda: {release.cuda_refs[0]})",
            )
        return
    # CUDA a template installs needs no cuda_dependencies entry
    declared = m.cuda_versions if release.cuda_install == REPOSITORY else release.cuda_refs
    missing = [v for v in release.cuda_refs if v not in declared]
    if release.cuda_on and missing:
        known = sorted(m.cuda_versions)
        yield m.problem(
            path, f"CUDA version(s) {missing} not under cuda_dependencies (known: {known})"
        )
    elif release.cuda_on and len(set(release.cuda_refs)) != len(release.cuda_refs):
        yield m.problem(path, "a CUDA version is listed twice")
    elif release.cuda_on and not release.cuda_refs and needs_cuda:
        yield m.problem(path, "CUDA is on (cuda_prefix_url is set) but no CUDA version is given")
    elif needs_cuda and not release.cuda_on and release.cuda_install != REPOSITORY:
        yield m.problem(
            release.path,
            f"has no CUDA version (`cuda` names none) but packages build {needs_cuda} on it; "
            "remove it from those lists or list the versions its template installs",
        )
    elif needs_cuda and not release.cuda_on:
        yield m.problem(
            release.path,
            f"has no CUDA (cuda_prefix_url is empty) but packages build {needs_cuda} on it; "
            "remove it from those lists or set cuda_prefix_url",
        )
    elif needs_cuda and not set(release.platforms) & set(CUDA_PLATFORMS):
        yield m.problem(
            (*release.path, "platforms"),
            f"CUDA images build only for {' and '.join(CUDA_PLATFORMS)}, and this release's "
            f"platforms {list(release.platforms)} have neither; packages build {needs_cuda} on it",
        )


def _cuda_requires_problems(m: Manifest, release: DistroRelease) -> Iterator[Problem]:
    if "{" in release.cuda_requires or "}" in release.cuda_requires:
        yield from _format_problems(
            m, (*release.path, "cuda_requires"), release.cuda_requires, CUDA_FIELDS, tag=False
        )


def _python_problems(m: Manifest) -> Iterator[Problem]:
    """Every package x distro release it names by version keeps at least one Python version;
    a distro listed whole may lose some of its releases (a note says so), not all."""
    for package in m.packages.values():
        for build in package.builds:
            if build.release_type not in m.release_types:
                continue
            releases = m.build_releases(build)
            named = {
                (p.distro, v) for p in build.picks if p.versions is not None for v in p.versions
            }
            empty = [r for r in releases if not m.pythons(package.name, r, build.release_type)]
            for release in empty:
                if len(empty) == len(releases) or (release.distro, release.version) in named:
                    yield m.problem(
                        build.path,
                        f"no Python version left for {package.name} {build.release_type} on "
                        f"{release.distro_id}: "
                        f"{_python_cause(m, package.name, release, build.release_type)}",
                    )


def _python_cause(m: Manifest, package: str, release: DistroRelease, release_type: str) -> str:
    """Which lists of Python versions do not meet, named as the manifest names them."""
    chosen = set(m.packages[package].python_versions)
    said = [f"the package's python_versions {_shown(chosen)}"]
    for parent in m.package_chain(package)[1:]:
        theirs = set(m.packages[parent].python_versions)
        if not chosen & theirs:
            return f"{said[0]} and parent package {parent}'s {_shown(theirs)} do not meet"
        chosen &= theirs
        said = [f"the versions it shares with parent package {parent} {_shown(chosen)}"]
    if release.python_versions is not None:
        offered = set(release.python_versions)
        if not chosen & offered:
            return (
                f"{said[0]} and the distro release's python_versions {_shown(offered)} do not meet"
            )
        chosen &= offered
    if not chosen - set(release.exclude_python):
        return (
            f"the distro release's exclude_python {_shown(set(release.exclude_python))} "
            f"removes all of {_shown(chosen)}"
        )
    chosen -= set(release.exclude_python)
    excluded = m.excluded_pythons(release_type)
    return f"release type {release_type}'s exclude_python {_shown(excluded)} removes all of {_shown(chosen)}"


def _shown(versions: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(versions, key=version_key)) + "]"
