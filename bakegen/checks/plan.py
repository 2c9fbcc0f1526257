"""Check stage: the rules only the expanded plan shows (target names, tags, groups) and its
warnings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from bakegen.checks.axes import arg_field_problems, arg_problems, tag_sample_note
from bakegen.checks.dockerfiles import instructions
from bakegen.checks.image_tags import image_tag_plan_problems
from bakegen.checks.manifest import RESERVED_GROUPS, _line
from bakegen.errors import KeyPath, Problem
from bakegen.manifest.records import DEFAULT, Manifest
from bakegen.manifest.references import normalize_reference, tag_problem
from bakegen.manifest.values import Text, resolve, shown
from bakegen.plan.image_tags import platform_variants
from bakegen.plan.names import cuda_slug, python_slug, slug, version_key
from bakegen.plan.records import Image, Plan, Tag


def plan_problems(m: Manifest, plan: Plan) -> list[Problem]:
    """Conflicts only the expanded matrix shows."""
    unmade = list(arg_field_problems(m, plan))
    if unmade:  # tags missing a build argument are not the tags meant: nothing more to check
        return unmade
    return [
        *plan.dangling,
        *(replace(p, location=m.where(p.path)) for p in parent_platform_problems(plan)),
        *_target_name_problems(m, plan),
        *_alias_problems(m, plan),
        *_tag_problems(m, plan),
        *image_tag_plan_problems(m, plan),
        *_group_problems(m, plan),
        *arg_problems(m, plan),
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
        stem = f"{b.package}-{b.release_type}-{slug(b.distro_id)}"
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
            f"{m.where(_clash_origin(a, b, a))}) both become '{slug(b.distro_id)}' in bake "
            "target names; rename one",
        )
    if a.python != b.python:
        versions = sorted((a.python, b.python), key=version_key)
        return m.problem(
            m.packages[b.package].python_from,
            f"Python versions {versions[0]} and {versions[1]} both become "
            f"{python_slug(b.python)} in bake target names; keep one",
        )
    cudas = sorted((a.cuda.version if a.cuda else "", b.cuda.version if b.cuda else ""))
    return m.problem(
        ("releases", b.distro, b.distro_version, "cuda"),
        f"CUDA versions {cudas[0]} and {cudas[1]} both become {cuda_slug(cudas[1])} "
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
    values = plan.values({v.variable: v.sample for v in m.tag_variables})
    seen: dict[str, tuple[Image, str]] = {}
    said: set[tuple[str, str, str]] = set()
    for image in plan.images:
        clashed: set[Tag] = set()
        for tag, base in _with_platform_tags(image):
            text = resolve(tag.text, values)
            written = shown(tag.text)
            why = tag_problem(text)
            if why:
                cell = (image.package, image.release_type, image.distro_id)
                if cell not in said:  # one line per Dockerfile, not per Python version
                    said.add(cell)
                    yield m.problem(
                        _origin(image),
                        f"image {image.target} gets the tag {text!r}, which is not a valid image "
                        f"reference: {why}" + tag_sample_note(m, tag),
                    )
                continue
            key = normalize_reference(written)
            other, other_shown = seen.setdefault(key, (image, written))
            told = other.target == image.target or (  # told as a name clash, or by the alias
                tag.alias is not None and any(t.alias == tag.alias for t in other.tags)
            )
            if other is image or base in clashed:  # a platform tag of a tag told already
                continue
            clashed.add(tag)
            if not told:
                same = (
                    written
                    if other_shown == written
                    else f"{other_shown} and {written} (both {key})"
                )
                yield m.problem(
                    _origin(image),
                    f"images {other.target} and {image.target} get the same tag {same}; "
                    "make the tag format or add_to_tags tell them apart",
                )


def _with_platform_tags(image: Image) -> list[tuple[Tag, Tag]]:
    """Each tag of `image` with itself, then each of its platform tags with the tag it is of."""
    own = [(t, t) for t in image.tags]
    return own + [(v, t) for t in image.tags for v in platform_variants(t, image.platform_tags)]


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
        name = slug(value)
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


def parent_platform_problems(plan: Plan) -> Iterator[Problem]:
    """An image's parent builds every platform the image builds (bake builds a `target:`
    context for the platforms of the image that names it)."""
    images = {i.target: i for i in plan.images}
    for image in plan.images:
        parent = images.get(image.parent or "")
        missing = [p for p in image.platforms if parent and p not in parent.platforms]
        if parent is not None and missing:
            yield Problem(
                None,
                image.parent_from,
                f"image {image.target} builds for {', '.join(missing)}, which its parent "
                f"{parent.target} does not; narrow the image's `platforms`, or widen the parent's",
            )
