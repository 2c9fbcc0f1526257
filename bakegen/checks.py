"""Check stage: the semantic rules, each in one place.

- `manifest_problems`: rules over the typed manifest that the schema cannot state (references
  resolve, hierarchies have no cycles, what a distro release must set to be built on);
- `template_problems`: the templates the plan will render exist (this reads the file system);
- `plan_problems`: what only the expanded matrix shows: two images with one tag or bake target
  name, a group name standing for two things, a tag that is not a valid image reference.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from string import Formatter

from bakegen import names
from bakegen.dockerfile_checks import instructions
from bakegen.errors import KeyPath, Problem
from bakegen.manifest import CUDA_PLATFORMS, DEFAULT, DistroRelease, Manifest
from bakegen.model import Image, Plan, Text, resolve
from bakegen.schema import did_you_mean

# The fields of cuda_requires.
CUDA_FIELDS = ("cuda", "cuda_short", "cuda_major")
# The fields of a tag format; `release` is the older name of `release_type`.
TAG_FIELDS = (
    "version",
    "python",
    "suffix",
    *CUDA_FIELDS,
    "cuda_suffix",
    "distro",
    "package",
    "release_type",
    "release",
)
RESERVED_GROUPS = ("default", "verify")


def manifest_problems(m: Manifest) -> list[Problem]:
    """Every semantic problem of the manifest."""
    return [
        *_release_type_problems(m),
        *_secret_problems(m),
        *_cuda_dependency_problems(m),
        *_registry_problems(m),
        *_package_problems(m),
        *_distro_release_problems(m),
        *_python_problems(m),
        *_bake_problems(m),
    ]


def _bake_problems(m: Manifest) -> Iterator[Problem]:
    """`bake:` values that another manifest key sets (the schema refuses those bakegen always
    sets): cache entries with `cache`, attestations with `attestations`, top-level `labels`."""
    attest = m.ci.attestations.sbom or m.ci.attestations.provenance
    labels = dict(m.labels)
    for level in (
        m.bake,
        *(rt.bake for rt in m.release_types.values()),
        *(p.bake for p in m.packages.values()),
        *(r.bake for r in m.releases),
    ):
        for setting in level:
            if setting.attribute in ("cache-from", "cache-to") and m.ci.cache:
                yield m.problem(setting.path, "bakegen sets it from `cache`")
            elif setting.attribute == "attest" and attest:
                yield m.problem(setting.path, "bakegen sets it from `attestations`")
            elif setting.attribute == "labels" and setting.key in labels:
                yield m.problem(
                    setting.path,
                    f"the top-level `labels` sets the label '{setting.key}'; set it in one place",
                )


def _release_type_problems(m: Manifest) -> Iterator[Problem]:
    types = m.release_types
    for rt in types.values():
        if rt.parent is not None and rt.parent not in types:
            yield m.problem(
                rt.parent_from,
                f"unknown release type '{rt.parent}'{did_you_mean(rt.parent, sorted(types))}",
            )
        elif (
            rt.parent is not None
            and rt.name in types[rt.parent].lineage
            and rt.parent_from[:1] != (DEFAULT,)  # told where the manifest itself sets a parent
        ):
            yield m.problem(rt.parent_from, "release types form a cycle; break it")
        if rt.push and not rt.tag:
            yield m.problem(rt.path, "a pushed release type needs a `tag` format")
        elif rt.push and rt.tag:
            yield from _format_problems(m, (*rt.path, "tag"), rt.tag, TAG_FIELDS, tag=True)
        if rt.aliases and not rt.push:
            yield m.problem((*rt.path, "aliases"), "a release type that is not pushed has no tags")
        for alias in rt.aliases:
            yield from _format_problems(m, (*alias.path, "tag"), alias.tag, TAG_FIELDS, tag=True)


def _format_problems(
    m: Manifest, path: KeyPath, fmt: str, fields: tuple[str, ...], *, tag: bool
) -> Iterator[Problem]:
    """A format with `{field}`s: only known fields, no conversions; a tag's text fits a tag."""
    what = "tag format" if tag else "format"
    try:
        parsed = list(Formatter().parse(fmt))
    except ValueError as exc:
        yield m.problem(path, f"bad {what}: {exc}")
        return
    for literal, field, spec, conv in parsed:
        if tag and not names.TAG_TEXT.match(literal):
            yield m.problem(path, f"'{literal}' has characters not allowed in a tag")
        if field is not None and field not in fields:
            known = ", ".join(sorted(fields))
            yield m.problem(path, f"unknown field {{{field}}} in {what}; known: {known}")
        elif field is not None and (spec or conv):
            shown = field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
            yield m.problem(
                path,
                f"{{{shown}}}: a {'tag ' if tag else ''}field takes no conversion or format "
                f"spec; write {{{field}}}",
            )


def _secret_problems(m: Manifest) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, secret in enumerate(m.secrets):
        if secret.id in seen:
            yield m.problem(("secrets", index, "id"), f"secret '{secret.id}' is declared twice")
        seen.add(secret.id)


def _cuda_dependency_problems(m: Manifest) -> Iterator[Problem]:
    for cuda in m.cuda_versions.values():
        if len(cuda.cudnn_names) > 1:
            # At the cuDNN component written last: the one to remove or move.
            last = max(cuda.cudnn_names, key=lambda n: (_line(m, (*cuda.path, n)), n))
            yield m.problem(
                (*cuda.path, last),
                f"at most one cuDNN component per CUDA version: {list(cuda.cudnn_names)}",
            )


def _line(m: Manifest, path: KeyPath) -> tuple[str, int, int]:
    loc = m.where(path)
    return (loc.file, loc.line, loc.column) if loc else ("", 0, 0)


def _registry_problems(m: Manifest) -> Iterator[Problem]:
    packages = sorted(m.packages)
    for registry in m.registries:
        for package, _ in registry.repositories:
            if package not in m.packages:
                yield m.problem(
                    (*registry.path, "registry", package),
                    f"no package '{package}' in `packages`{did_you_mean(package, packages)}",
                )


def _package_problems(m: Manifest) -> Iterator[Problem]:
    distros = sorted({r.distro for r in m.releases})
    for package in m.packages.values():
        named: set[str] = set()
        for test in package.tests:
            if test.name in named:
                yield m.problem((*test.path, "name"), f"test '{test.name}' is declared twice")
            named.add(test.name)
        parent = m.packages.get(package.parent) if package.parent else None
        if package.parent == package.name:
            yield m.problem((*package.path, "parent"), "a package cannot be its own parent")
        elif package.parent is not None and parent is None:
            others = sorted(set(m.packages) - {package.name})
            yield m.problem(
                (*package.path, "parent"),
                f"no other package '{package.parent}'{did_you_mean(package.parent, others)}",
            )
        elif package.parent is not None and package.name in m.package_chain(package.parent):
            yield m.problem((*package.path, "parent"), "packages' parents form a cycle")
        for build in package.builds:
            if build.release_type not in m.release_types:
                yield m.problem(
                    build.path,
                    f"unknown release type '{build.release_type}'; declare it under "
                    f"`release_types`{did_you_mean(build.release_type, sorted(m.release_types))}",
                )
            parent_build = parent.build(build.release_type) if parent else None
            theirs = set(m.build_releases(parent_build)) if parent_build else set()
            for pick in build.picks:
                if pick.distro not in distros:
                    yield m.problem(
                        pick.path,
                        f"no distro '{pick.distro}' under `releases`"
                        f"{did_you_mean(pick.distro, distros)}",
                    )
                    continue
                known = [r.version for r in m.distro_releases(pick.distro)]
                for index, version in enumerate(pick.versions or ()):
                    if version not in known:
                        yield m.problem(
                            (*pick.path, index),
                            f"no version '{version}' of {pick.distro} under `releases` (known: "
                            f"{', '.join(known)}){did_you_mean(version, known)}",
                        )
                if not parent:
                    continue
                mine = [r for r in m.distro_releases(pick.distro) if r.version in known]
                missing = [
                    r
                    for r in mine
                    if r not in theirs and (pick.versions is None or r.version in pick.versions)
                ]
                if missing and len(missing) == len(mine) and pick.versions is None:
                    yield m.problem(
                        pick.path,
                        f"parent package '{parent.name}' has no {build.release_type} image on "
                        f"'{pick.distro}'",
                    )
                elif missing:
                    yield m.problem(
                        pick.path,
                        f"parent package '{parent.name}' has no {build.release_type} image on "
                        f"'{pick.distro}' {', '.join(r.version for r in missing)}",
                    )


def used_release_types(m: Manifest, *, with_parents: bool = False) -> dict[DistroRelease, set[str]]:
    """Distro release -> the (known) release types packages build on it; `with_parents` adds
    the types those are built FROM (what the distro release's templates must provide)."""
    used: dict[DistroRelease, set[str]] = {}
    for package in m.packages.values():
        for build in package.builds:
            rt = m.release_types.get(build.release_type)
            if rt is None:
                continue
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
    missing = [v for v in release.cuda_refs if v not in m.cuda_versions]
    if release.cuda_on and missing:
        known = sorted(m.cuda_versions)
        yield m.problem(
            path, f"CUDA version(s) {missing} not under cuda_dependencies (known: {known})"
        )
    elif release.cuda_on and len(set(release.cuda_refs)) != len(release.cuda_refs):
        yield m.problem(path, "a CUDA version is listed twice")
    elif release.cuda_on and not release.cuda_refs and needs_cuda:
        yield m.problem(path, "CUDA is on (cuda_prefix_url is set) but no CUDA version is given")
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
    """Every package x distro release it builds on keeps at least one Python version."""
    for package in m.packages.values():
        for build in package.builds:
            if build.release_type not in m.release_types:
                continue
            for release in m.build_releases(build):
                if not m.pythons(package.name, release, build.release_type):
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
    return "[" + ", ".join(sorted(versions, key=names.version_key)) + "]"


def template_problems(m: Manifest, workspace: Path) -> list[Problem]:
    """The folders and files of the templates the matrix needs (by the path emit reads them)."""
    problems: list[Problem] = []
    used = used_release_types(m, with_parents=True)
    for release in m.releases:
        kinds = used.get(release)
        if not kinds or not release.templates_dir:
            continue
        where: KeyPath = (*release.path, "templates_dir")
        tdir = release.templates_dir
        if not (workspace / tdir).is_dir():
            problems.append(m.problem(where, f"folder '{tdir}' not found in the workspace"))
            continue
        for kind in sorted(kinds):
            template = f"{tdir}/{kind}.Dockerfile.j2"
            trouble = file_trouble(workspace / template)
            if trouble:
                problems.append(m.problem(where, f"template '{template}' {trouble}"))
    return problems


def file_trouble(path: Path) -> str | None:
    """Why `path` cannot be read as a template file, or None (never opens it)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "not found"
    if stat.S_ISDIR(mode):
        return "is a folder, not a template file"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


def plan_problems(m: Manifest, plan: Plan) -> list[Problem]:
    """Conflicts only the expanded matrix shows."""
    return [
        *_target_name_problems(m, plan),
        *_alias_problems(m, plan),
        *_tag_problems(m, plan),
        *_group_problems(m, plan),
    ]


def _alias_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """Each tag an alias gives lands on exactly one image of a package (`python{python}` gives
    one tag per Python); an alias lands on at least one image in all."""
    landed: dict[KeyPath, dict[tuple[str, Text], list[Image]]] = {}
    for image in plan.images:
        for tag in image.tags:
            if tag.alias and not tag.fallback:
                where = landed.setdefault(tag.alias, {}).setdefault((tag.registry, tag.text), [])
                if image not in where:
                    where.append(image)
    for rt in m.release_types.values():
        for alias in rt.aliases if rt.push else ():
            tags = landed.get(alias.path, {})
            if not tags:
                yield m.problem(
                    alias.path,
                    f"alias '{alias.tag}' lands on no {rt.name} image; check its `where`",
                )
            told: set[str] = set()
            for images in tags.values():
                package = images[0].package
                if len(images) > 1 and package not in told:
                    told.add(package)
                    shown = ", ".join(i.target for i in images[:3])
                    more = f" and {len(images) - 3} more" if len(images) > 3 else ""
                    yield m.problem(
                        alias.path,
                        f"alias '{alias.tag}' lands on {len(images)} images of {package}: "
                        f"{shown}{more}; narrow its `where` to one",
                    )


def _origin(image: Image) -> KeyPath:
    return ("packages", image.package, image.release_type)


def _target_name_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """Two images never share a bake target name; the message names what made them meet."""
    first: dict[str, Image] = {}
    said: set[tuple[str, ...]] = set()
    for image in plan.images:
        other = first.setdefault(image.target, image)
        if other is image:
            continue
        problem = _name_clash(m, other, image)
        key = (problem.message,)
        if key not in said:
            said.add(key)
            yield problem


def _name_clash(m: Manifest, first: Image, second: Image) -> Problem:
    """The problem of two images with one target name, told at the one written later."""
    a, b = sorted((first, second), key=lambda i: _line(m, _clash_origin(first, second, i)))
    if (a.package, a.release_type) != (b.package, b.release_type):
        stem = f"{b.package}-{b.release_type}-{names.slug(b.distro_id)}"
        return m.problem(
            _origin(b),
            f"package {b.package} release type {b.release_type} on {b.distro_id} and package "
            f"{a.package} release type {a.release_type} on {a.distro_id} both get the bake "
            f"target names {stem}-...; rename a package or a release type",
        )
    if a.distro_id != b.distro_id:
        return m.problem(
            _clash_origin(a, b, b),
            f"{b.distro} {b.distro_version} and {a.distro} {a.distro_version} (at "
            f"{m.where(_clash_origin(a, b, a))}) both become '{names.slug(b.distro_id)}' in bake "
            "target names; rename one",
        )
    if a.python != b.python:
        versions = sorted((a.python, b.python), key=names.version_key)
        return m.problem(
            m.packages[b.package].python_from,
            f"Python versions {versions[0]} and {versions[1]} both become "
            f"{names.python_slug(b.python)} in bake target names; keep one",
        )
    cudas = sorted((a.cuda.version if a.cuda else "", b.cuda.version if b.cuda else ""))
    return m.problem(
        ("releases", b.distro, b.distro_version, "cuda"),
        f"CUDA versions {cudas[0]} and {cudas[1]} both become {names.cuda_slug(cudas[1])} "
        "in bake target names; a distro release builds one CUDA version per X.Y",
    )


def _clash_origin(a: Image, b: Image, which: Image) -> KeyPath:
    """Where `which` of two clashing images comes from: its distro release when that is what
    differs, else its package's entry."""
    if (a.package, a.release_type) == (b.package, b.release_type):
        return ("releases", which.distro, which.distro_version)
    return _origin(which)


def _tag_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """Every tag is a valid image reference (with VERSION at its default), and no two images
    share one once references are normalised (`app` is `docker.io/library/app`)."""
    values = dict(plan.variables)
    seen: dict[str, tuple[Image, str]] = {}
    said: set[tuple[str, str, str]] = set()
    for image in plan.images:
        for tag in image.tags:
            text = resolve(tag.text, values)
            shown = "".join(p if isinstance(p, str) else "${" + p.name + "}" for p in tag.text)
            why = names.tag_problem(text)
            if why:
                cell = (image.package, image.release_type, image.distro_id)
                if cell not in said:  # one line per Dockerfile, not per Python version
                    said.add(cell)
                    yield m.problem(
                        _origin(image),
                        f"image {image.target} gets the tag {text!r}, which is not a valid image "
                        f"reference: {why}"
                        + (" (with VERSION at its default)" if shown != text else ""),
                    )
                continue
            key = names.normalize_reference(shown)
            other, other_shown = seen.setdefault(key, (image, shown))
            told = other.target == image.target or (  # told as a name clash, or by the alias
                tag.alias is not None and any(t.alias == tag.alias for t in other.tags)
            )
            if other is not image and not told:
                same = shown if other_shown == shown else f"{other_shown} and {shown} (both {key})"
                yield m.problem(
                    _origin(image),
                    f"images {other.target} and {image.target} get the same tag {same}; "
                    "make the tag format or add_to_tags tell them apart",
                )


def _group_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """A bake group stands for one thing: a release type, a package or a distro release."""
    owners: dict[str, str] = dict.fromkeys(RESERVED_GROUPS, "group bakegen makes")
    pushed = [i for i in plan.images if i.push]
    things: list[tuple[str, str, KeyPath]] = []
    for image in pushed:
        rt = m.release_types[image.release_type]
        things.append(("release type", image.release_type, rt.path))
    for image in pushed:
        things.append(("package", image.package, ("packages", image.package)))
    for image in pushed:
        things.append(
            ("distro release", image.distro_id, ("releases", image.distro, image.distro_version))
        )
    reported: set[str] = set()
    for kind, value, path in things:
        name = names.slug(value)
        owner = owners.setdefault(name, kind)
        if owner != kind and name not in reported:
            reported.add(name)
            where = path if path[:1] != (DEFAULT,) else _origin_of_type(plan, value)
            yield m.problem(
                where, f"bake group '{name}' would stand for a {owner} and a {kind}; rename one"
            )
    targets = {i.target for i in plan.images} | {v.target for v in plan.verifies}
    for group in plan.groups:
        if group.name in targets:
            yield m.problem(("packages",), f"'{group.name}' is both a group and a target")


def _origin_of_type(plan: Plan, release_type: str) -> KeyPath:
    image = next(i for i in plan.images if i.release_type == release_type)
    return _origin(image)


def envar_warnings(m: Manifest, plan: Plan, outputs: Mapping[str, str]) -> list[Problem]:
    """`envars` entries that no Dockerfile of their distro release writes with ENV: the
    templates never use them, so they have no effect (a warning, not an error)."""
    written: dict[tuple[str, str], set[str]] = {}
    for df in plan.dockerfiles:
        keys = written.setdefault((df.distro, df.distro_version), set())
        for instruction in instructions(outputs.get(df.path, "")):
            if instruction.keyword == "ENV" and instruction.words:
                words = instruction.words
                keys.update(w.split("=", 1)[0] for w in words if "=" in w)
                if "=" not in words[0]:
                    keys.add(words[0])
    warnings = []
    for release in m.releases:
        seen = written.get((release.distro, release.version))
        if seen is None:
            continue  # nothing is built on it
        for index, (key, _) in enumerate(release.envars):
            if key not in seen:
                warnings.append(
                    m.problem(
                        (*release.path, "envars", index),
                        f"no Dockerfile of {release.distro_id} writes {key} (ENV): templates "
                        "see envars but none uses this one",
                    )
                )
    return warnings
