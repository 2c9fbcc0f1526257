"""Plan stage: a pure function from the typed manifest to an immutable Plan. No I/O.

The manifest has passed its checks; what only the expanded matrix can show is checked on the
Plan afterwards (`checks.plan_problems`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bakegen.checks.size import _check_size
from bakegen.errors import Problem
from bakegen.layout import dockerfile_path, image_template
from bakegen.manifest.image_keys import Where
from bakegen.manifest.platforms import CUDA_PLATFORMS
from bakegen.manifest.records import DistroRelease, Manifest, Package
from bakegen.plan.args import cuda_check_tests, expected_cuda, image_args
from bakegen.plan.cells import _Cell, _cells
from bakegen.plan.image_tags import image_tags
from bakegen.plan.labels import _labels
from bakegen.plan.names import slug, target_name, version_key
from bakegen.plan.notes import dropped_notes
from bakegen.plan.parents import Want, describe, resolve
from bakegen.plan.records import Cuda, DeclaredTest, Dockerfile, Group, Image, Plan, Tag, Verify
from bakegen.plan.tags import _tags


def build_plan(
    m: Manifest, max_targets: int | None = None, pins: Mapping[str, str] | None = None
) -> Plan:
    """Expand the manifest into images, Dockerfiles and groups; `pins` gives the reference a
    Dockerfile names for a base image (with its digest, from the lock)."""
    images: dict[tuple[str, ...], Image] = {}
    dockerfiles: dict[str, Dockerfile] = {}
    wants: dict[str, Want] = {}
    cells = list(_cells(m))
    _check_size(m, cells, max_targets)
    pythons: dict[str, set[str]] = {}
    for cell in cells:
        want = _want(m, cell)
        df = _dockerfile(m, cell, want is not None, pins or {})
        dockerfiles.setdefault(df.path, df)
        pythons.setdefault(df.path, set()).update(cell.pythons)
        for python in cell.pythons:
            image = _image(m, cell, python, df)
            images.setdefault(_identity(image), image)
            if want is not None:
                wants.setdefault(image.target, want)
    dangling = [replace(p, location=m.where(p.path)) for p in _link(images, wants)]
    # A Dockerfile shared by several release types' chains serves all of their Pythons.
    arg_names = _arg_names(images.values())
    for path, df in dockerfiles.items():
        dockerfiles[path] = replace(
            df,
            python_versions=tuple(sorted(pythons[path], key=version_key)),
            args=arg_names.get(path, ()),
        )
    ordered = tuple(sorted(images.values(), key=_image_order))
    verifies = tuple(_verify(i) for i in ordered if i.push) if m.verify else ()
    gates = tuple(sorted({r.only_if for r in m.registries if r.only_if}))
    return Plan(
        images=ordered,
        dockerfiles=tuple(sorted(dockerfiles.values(), key=lambda d: d.path)),
        groups=_groups(ordered, verifies),
        variables=(
            ("VERSION", m.version),
            ("REVISION", ""),
            ("SOURCE", ""),
            *((g, "") for g in gates),
            *((v.variable, v.default) for v in m.tag_variables),
            *((("CACHE_SUFFIX", ""),) if m.ci.cache else ()),
        ),
        gates=gates,
        labels=_labels(m),
        secrets=m.secrets,
        verifies=verifies,
        ci=m.ci,
        notes=tuple(dropped_notes(m, cells)),
        dangling=tuple(dangling),
    )


def _want(m: Manifest, cell: _Cell) -> Want | None:
    """What the images of `cell` are built FROM: their package's parent, or the next release
    type of their lineage; None for images built FROM a base image."""
    ref = cell.package.parent
    if ref is not None:
        return Want(ref.package, ref.release_type or cell.chain[0], ref.where, ref.path)
    if cell.level + 1 >= len(cell.chain):
        return None
    kind = m.release_types[cell.chain[cell.level]]
    return Want(cell.package.name, cell.chain[cell.level + 1], Where(), kind.parent_from)


def _link(images: dict[tuple[str, ...], Image], wants: dict[str, Want]) -> list[Problem]:
    """Set each image's parent to the image its want names; the problems of those that name
    none, or several."""
    by_node: dict[tuple[str, str], list[Image]] = {}
    for image in images.values():
        by_node.setdefault((image.package, image.release_type), []).append(image)
    problems = []
    for key, image in images.items():
        want = wants.get(image.target)
        if want is None:
            continue
        found = resolve(by_node.get((want.package, want.release_type), []), want, image)
        if len(found) == 1:
            images[key] = replace(image, parent=found[0].target, parent_from=want.path)
        else:
            problems.append(Problem(None, want.path, describe(image, want, found)))
    return problems


def _v(cuda: Cuda | None) -> str | None:
    return cuda.version if cuda else None


def _dockerfile(m: Manifest, cell: _Cell, from_parent: bool, pins: Mapping[str, str]) -> Dockerfile:
    release, cuda, kind = cell.release, cell.cuda, cell.release_type
    several = cuda is not None and len(cell.cudas) > 1
    package = cell.package
    template, templates_dir = image_template(package.template, release.templates_dir, kind)
    return Dockerfile(
        path=dockerfile_path(
            cell.package.name, release.distro_id, kind, cuda.version if cuda and several else None
        ),
        template=template,
        templates_dir=templates_dir,
        package=cell.package.name,
        release_type=kind,
        distro=release.distro,
        distro_version=release.version,
        distro_id=release.distro_id,
        base_image=pins.get(release.base_image, release.base_image),
        header=release.header,
        envars=release.envars,
        python_versions=cell.pythons,
        cuda=cuda,
        platforms=_platforms(m, cell),
        from_parent=from_parent,
        multistage_image=release.multistage_image,
        secrets=tuple(s.id for s in m.secrets),
        template_from=package.template_from
        if package.template
        else (*release.path, "templates_dir"),
        context=package.context or ".",
    )


def _platforms(m: Manifest, cell: _Cell) -> tuple[str, ...]:
    platforms, _ = m.image_platforms(cell.package.name, cell.release_type, cell.release)
    if cell.cuda is None:
        return platforms
    return tuple(p for p in platforms if p in CUDA_PLATFORMS)


def _image(m: Manifest, cell: _Cell, python: str, df: Dockerfile) -> Image:
    release, cuda, kind = cell.release, cell.cuda, cell.release_type
    package = cell.package.name
    rt = m.release_types[kind]

    def matches(where: Where) -> bool:
        return _matches(where, cell.package, kind, release, python, cuda)

    args = tuple((name, value) for name, value, _ in image_args(m, package, matches))
    from_image, platform_tags = image_tags(m, cell, python, args, matches, df.platforms)
    tags: tuple[Tag, ...] = ()
    if rt.push and rt.tag:
        tags = _tags(m, cell, python, rt.tag, None, args)
        for alias in rt.aliases:
            if matches(alias.where):
                tags += _tags(m, cell, python, alias.tag, alias.path, args)
    tags = _once(tags)
    return Image(
        target=target_name(package, kind, release.distro_id, python, _v(cuda)),
        package=package,
        release_type=kind,
        distro=release.distro,
        distro_version=release.version,
        distro_id=release.distro_id,
        add_to_tags=release.add_to_tags,
        os_id=release.os_id,
        python=python,
        cuda=cuda,
        platforms=df.platforms,
        dockerfile=df.path,
        parent=None,
        push=rt.push,
        tags=tags,
        args=(("PYTHON_VERSION", python), *args),
        tests=tuple(
            DeclaredTest(t.name, t.run, t.gpu)
            for t in cell.package.tests
            if rt.push and matches(t.where)
        ),
        bake=m.bake_settings(package, kind, release),
        context=df.context,
        owner=cell.package.owner or package,
        variant=cell.package.variant,
        image_tags=from_image,
        platform_tags=platform_tags,
    )


def _once(tags: tuple[Tag, ...]) -> tuple[Tag, ...]:
    """Each tag once: two formats may give the same (`version: latest` and an alias `latest`)."""
    seen: dict[tuple[object, ...], Tag] = {}
    for tag in tags:
        key = (tag.registry, tag.gate, tag.text, tag.fallback)
        first = seen.setdefault(key, tag)
        if first.alias is None and tag.alias is not None:  # the alias landed here too
            seen[key] = replace(first, alias=tag.alias)
    return tuple(seen.values())


def _matches(
    where: Where,
    package: Package,
    release_type: str,
    release: DistroRelease,
    python: str,
    cuda: Cuda | None,
) -> bool:
    """Whether the image with these coordinates is one `where` names."""
    cuda_names = {cuda.version, cuda.shortened} if cuda else set()
    return (
        where.package in (None, package.name, package.owner)
        and where.variant in (None, package.variant or "")
        and where.release_type in (None, release_type)
        and where.distro in (None, release.distro)
        and where.distro_version in (None, release.version)
        and where.python in (None, python)
        and (where.cuda is None or where.cuda in cuda_names)
    )


def _identity(image: Image) -> tuple[str, ...]:
    cuda = image.cuda.version if image.cuda else ""
    return (image.package, image.release_type, image.distro_id, image.python, cuda)


def _image_order(image: Image) -> tuple[Any, ...]:
    return (
        image.package,
        image.distro,
        version_key(image.distro_version),
        version_key(image.python),
        image.parent is not None,
        image.release_type,
        version_key(image.cuda.version) if image.cuda else (),
    )


def _arg_names(images: Iterable[Image]) -> dict[str, tuple[str, ...]]:
    """Dockerfile -> the build arguments `args` gives its images, by name."""
    names: dict[str, set[str]] = {}
    for image in images:
        own = image.args[1:]  # after PYTHON_VERSION
        names.setdefault(image.dockerfile, set()).update(n for n, _ in own)
    return {path: tuple(sorted(found)) for path, found in names.items()}


def _verify(image: Image) -> Verify:
    tests = (*cuda_check_tests(image.cuda), *(t for t in image.tests if not t.gpu))
    script = verify_script(tests)
    return Verify(
        target=f"{image.target}-verify",
        image=image.target,
        platforms=image.platforms,
        args=(
            ("EXPECT_PYTHON", image.python),
            ("EXPECT_OS_ID", image.os_id),
            ("EXPECT_OS_VERSION", image.distro_version),
            ("EXPECT_CUDA", expected_cuda(image.cuda)),
            *((("TESTS", script),) if script else ()),
        ),
    )


def verify_script(tests: tuple[DeclaredTest, ...]) -> str:
    """A shell script running `tests` in order; the first to fail stops it, saying which."""
    if not tests:
        return ""
    lines = [
        'bakegen_test() { echo "verify: test $1"; '
        'if ! sh -c "$2"; then echo "verify: test $1 failed" >&2; exit 1; fi; }'
    ]
    lines += [f"bakegen_test {shlex.quote(t.name)} {shlex.quote(t.run)}" for t in tests]
    return "\n".join(lines) + "\n"


def _groups(images: tuple[Image, ...], verifies: tuple[Verify, ...]) -> tuple[Group, ...]:
    """`default`, then one group per release type, package and distro release, then `verify`."""
    pushed = [i for i in images if i.push]
    groups: dict[str, list[str]] = {"default": [i.target for i in pushed]}
    for attr in ("release_type", "package", "distro_id"):
        for image in pushed:
            groups.setdefault(slug(getattr(image, attr)), []).append(image.target)
    if verifies:
        groups["verify"] = [v.target for v in verifies]
    return tuple(Group(name, tuple(targets)) for name, targets in groups.items())
