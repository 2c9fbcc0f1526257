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
from bakegen.layout import dockerfile_path, template_path
from bakegen.manifest.platforms import CUDA_PLATFORMS
from bakegen.manifest.records import DistroRelease, Manifest, Where
from bakegen.plan.args import cuda_check_tests, expected_cuda, image_args
from bakegen.plan.cells import _Cell, _cells
from bakegen.plan.labels import _labels
from bakegen.plan.names import slug, target_name, version_key
from bakegen.plan.records import Cuda, DeclaredTest, Dockerfile, Group, Image, Plan, Tag, Verify
from bakegen.plan.tags import _tags


def build_plan(
    m: Manifest, max_targets: int | None = None, pins: Mapping[str, str] | None = None
) -> Plan:
    """Expand the manifest into images, Dockerfiles and groups; `pins` gives the reference a
    Dockerfile names for a base image (with its digest, from the lock)."""
    images: dict[tuple[str, ...], Image] = {}
    dockerfiles: dict[str, Dockerfile] = {}
    cells = list(_cells(m))
    _check_size(m, cells, max_targets)
    pythons: dict[str, set[str]] = {}
    for cell in cells:
        df = _dockerfile(m, cell, _parent(m, cell) is not None, pins or {})
        dockerfiles.setdefault(df.path, df)
        pythons.setdefault(df.path, set()).update(cell.pythons)
        for python in cell.pythons:
            image = _image(m, cell, python, df)
            images.setdefault(_identity(image), image)
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
    )


def _parent(m: Manifest, cell: _Cell) -> tuple[str, str, Cuda | None] | None:
    """The package, release type and CUDA version of the target `cell`'s images are built
    FROM (the one of their own Python version), or None."""
    if cell.package.parent:
        return cell.package.parent, cell.chain[0], cell.cuda
    if cell.level + 1 >= len(cell.chain):
        return None
    parent = cell.chain[cell.level + 1]
    return cell.package.name, parent, cell.cuda if m.release_types[parent].needs_cuda else None


def _parent_target(m: Manifest, cell: _Cell, python: str) -> str | None:
    """The target the image of `cell` and `python` is built FROM, or None."""
    parent = _parent(m, cell)
    if parent is None:
        return None
    package, release_type, cuda = parent
    return target_name(package, release_type, cell.release.distro_id, python, _v(cuda))


def _v(cuda: Cuda | None) -> str | None:
    return cuda.version if cuda else None


def _dockerfile(m: Manifest, cell: _Cell, from_parent: bool, pins: Mapping[str, str]) -> Dockerfile:
    release, cuda, kind = cell.release, cell.cuda, cell.release_type
    several = cuda is not None and len(cell.cudas) > 1
    return Dockerfile(
        path=dockerfile_path(
            cell.package.name, release.distro_id, kind, cuda.version if cuda and several else None
        ),
        template=template_path(release.templates_dir, kind),
        templates_dir=release.templates_dir,
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
        platforms=_platforms(release, cuda),
        from_parent=from_parent,
        multistage_image=release.multistage_image,
        secrets=tuple(s.id for s in m.secrets),
    )


def _platforms(release: DistroRelease, cuda: Cuda | None) -> tuple[str, ...]:
    if cuda is None:
        return release.platforms
    return tuple(p for p in release.platforms if p in CUDA_PLATFORMS)


def _image(m: Manifest, cell: _Cell, python: str, df: Dockerfile) -> Image:
    release, cuda, kind = cell.release, cell.cuda, cell.release_type
    package = cell.package.name
    rt = m.release_types[kind]
    args = tuple(
        (name, value)
        for name, value, _ in image_args(
            m, package, lambda where: _matches(where, package, kind, release, python, cuda)
        )
    )
    tags: tuple[Tag, ...] = ()
    if rt.push and rt.tag:
        tags = _tags(m, cell, python, rt.tag, None, args)
        for alias in rt.aliases:
            if _matches(alias.where, package, kind, release, python, cuda):
                tags += _tags(m, cell, python, alias.tag, alias.path, args)
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
        parent=_parent_target(m, cell, python),
        push=rt.push,
        tags=tags,
        args=(("PYTHON_VERSION", python), *args),
        tests=tuple(
            DeclaredTest(t.name, t.run, t.gpu)
            for t in cell.package.tests
            if rt.push and _matches(t.where, package, kind, release, python, cuda)
        ),
        bake=m.bake_settings(package, kind, release),
    )


def _matches(
    where: Where,
    package: str,
    release_type: str,
    release: DistroRelease,
    python: str,
    cuda: Cuda | None,
) -> bool:
    """Whether the image with these coordinates is one `where` names."""
    cuda_names = {cuda.version, cuda.shortened} if cuda else set()
    return (
        where.package in (None, package)
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
