"""`bakegen explain TARGET`: every resolved value of one bake target, each with where it came
from (the manifest's file:line, through `<<:` anchors and list aliases, or bakegen's default)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bakegen.checks.axes import image_matcher
from bakegen.errors import KeyPath, UsageError, did_you_mean, one_line
from bakegen.manifest.cuda_install import REPOSITORY
from bakegen.manifest.records import DistroRelease, Manifest, Package, ReleaseType
from bakegen.manifest.tag_variables import TagVariable
from bakegen.manifest.trust import image_gates, image_signing, signing_from
from bakegen.manifest.values import shown
from bakegen.output import Streams
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.plan.args import VERIFY_CUDA_ENV, image_args
from bakegen.plan.image_tags import chosen_keys
from bakegen.plan.records import Image, Plan, Tag

DEFAULT_ORIGIN = "default"


@dataclass(frozen=True)
class Row:
    field: str
    value: str
    origin: str  # file:line:col, or "default"


def run(io: Streams, ws: Path, manifest: Path | None, *, target: str, as_json: bool) -> int:
    typed = read_manifest(ws, manifest)
    note, rows = explain(typed, plan_manifest(typed), target)
    if as_json:
        io.write(json.dumps(explained_json(target, note, rows), indent=2) + "\n")
    else:
        for line in as_text(target, note, rows):
            io.out.print(line)
    return 0


@dataclass(frozen=True)
class _Target:
    """One image with the manifest entries it comes from."""

    m: Manifest
    plan: Plan
    image: Image
    release: DistroRelease
    package: Package
    rt: ReleaseType

    def row(self, field: str, value: object, path: KeyPath | None) -> Row:
        return Row(field, str(value), _origin(self.m, path))


def explain(m: Manifest, plan: Plan, target: str) -> tuple[str, list[Row]]:
    """The target explained: (what it is, its rows). A verify target explains its image."""
    image, note = _find(plan, target)
    release = next(
        r for r in m.releases if (r.distro, r.version) == (image.distro, image.distro_version)
    )
    it = _Target(
        m, plan, image, release, m.packages[image.package], m.release_types[image.release_type]
    )
    return note, [row for section in SECTIONS for row in section(it)]


def _what(it: _Target) -> list[Row]:
    image, release = it.image, it.release
    rows = [
        it.row("package", image.package, it.package.path),
        *(
            [it.row("variant of", image.owner, it.package.path[:2])]
            if image.variant is not None
            else []
        ),
        it.row("release type", image.release_type, it.rt.path),
        it.row("distro release", f"{image.distro} {image.distro_version}", release.path),
        it.row("python", image.python, it.package.python_from),
    ]
    if release.python_versions is not None:
        rows.append(
            it.row(
                "python offered by the distro release",
                ", ".join(release.python_versions),
                (*release.path, "python_versions"),
            )
        )
    if release.exclude_python:
        rows.append(
            it.row(
                "python excluded by the distro release",
                ", ".join(release.exclude_python),
                (*release.path, "exclude_python"),
            )
        )
    return rows


def _cuda(it: _Target) -> list[Row]:
    found, release = it.image.cuda, it.release
    if not found:
        return []
    cuda = it.m.cuda_versions.get(found.version)
    rows = [it.row("cuda", found.version, (*release.path, "cuda"))]
    if cuda:  # a version a template installs may have no cuda_dependencies entry
        rows += [
            it.row(f"cuda component {name}", version, (*cuda.path, name))
            for name, version in cuda.all_components
        ]
    if found.install == REPOSITORY:
        rows.append(it.row("cuda repository", found.repo_url, (*release.path, "cuda_prefix_url")))
    else:
        rows.append(it.row("cuda installed by", "the template", (*release.path, "cuda_install")))
    check = cuda_check_row(it.m, it.image, release)
    if check:
        rows.append(it.row(*check))
    if found.requires:
        rows.append(it.row("NVIDIA_REQUIRE_CUDA", found.requires, (*release.path, "cuda_requires")))
    return rows


def _base(it: _Target) -> list[Row]:
    release = it.release
    rows = [
        it.row("platforms", ", ".join(it.image.platforms), _platforms_from(it)),
        it.row("base image", release.base_image, (*release.path, "base_image")),
    ]
    chain = _parents(it.plan, it.image)
    if chain:
        rows.append(it.row("built FROM", " <- ".join(chain), it.image.parent_from))
    return rows


def _platforms_from(it: _Target) -> KeyPath:
    """The key that last narrowed the image's platforms."""
    for level in (it.package.platforms, it.rt.platforms):
        if level.platforms is not None:
            return level.path
    return it.release.platforms_from


def _environment(it: _Target) -> list[Row]:
    path = it.release.path
    rows = [
        it.row(f"envar {key}", value, (*path, "envars", index))
        for index, (key, value) in enumerate(it.release.envars)
    ]
    rows += [it.row(f"label {key}", value, ("labels", key)) for key, value in it.m.labels]
    rows += [
        it.row(
            f"secret {secret.id}",
            f"env {secret.env}" if secret.env else f"file {secret.src}",
            ("secrets", index),
        )
        for index, secret in enumerate(it.m.secrets)
    ]
    return rows


def _tags(it: _Target) -> list[Row]:
    image, rt = it.image, it.rt
    rows = [it.row("tag format", rt.tag, (*rt.path, "tag"))] if rt.tag else []
    rows += [
        it.row("alias", alias.tag, alias.path)
        for alias in rt.aliases
        if any(t.alias == alias.path for t in image.tags)
    ]
    registries = {r.name: r for r in it.m.registries}
    for tag in image.tags:
        when = when_given(tag)
        registry = registries.get(tag.registry)
        where: KeyPath = (
            (*registry.path, "registry", it.package.repository_key)
            if registry
            else tag.alias or (*rt.path, "tag")
        )
        rows.append(it.row("tag", shown(tag.text) + when, where))
    rows += [
        it.row(f"tag variable {v.variable}", tag_variable_text(v), v.path)
        for v in it.m.tag_variables
        if any(
            v.variable in needs
            for needs in (*(t.needs for t in image.tags), *(t.needs for t in image.image_tags))
        )
    ]
    return rows


def _image_tags(it: _Target) -> list[Row]:
    """The tags read from the built image, and the platform tags, each at its entry."""
    image = it.image
    rows = [
        it.row("tag from image", f"{shown(tag.text)}, {{output}} printed by: {tag.run}", tag.path)
        for tag in image.image_tags
    ]
    chosen = dict(image.platform_tags)
    for tag in chosen_keys(it.m, image.package, image.release_type).platform or ():
        if chosen.pop(tag.platform, None) is not None:
            rows.append(it.row(f"platform tag {tag.platform}", tag.template, tag.path))
    return rows


def _args(it: _Target) -> list[Row]:
    """The build arguments `args` gives the image, each where its value is written."""
    matches = image_matcher(it.m, it.image)
    return [
        it.row(f"arg {name}", value, path)
        for name, value, path in image_args(it.m, it.image.package, matches)
    ]


def _tests(it: _Target) -> list[Row]:
    return [
        it.row(
            f"test {test.name}",
            test.run + (" (gpu)" if test.gpu else ""),
            next(t.path for t in it.package.tests if t.name == test.name),
        )
        for test in it.image.tests
    ]


def _trust(it: _Target) -> list[Row]:
    """What vouches for a pushed image: its attestations, its signing, its gates."""
    if not it.image.push:
        return []
    m, package = it.m, it.image.package
    made = m.ci.attestations
    kinds = ["sbom"] if made.sbom else []
    kinds += [f"provenance ({made.provenance})"] if made.provenance else []
    rows = [it.row("attestations", ", ".join(kinds) or "none", ("attestations",))]
    if m.signing is not None:
        signing = image_signing(m, package)
        if signing is None:
            shown = "off for this package"
        elif signing.key is None:
            shown = f"{signing.tool}, keyless (the workflow's GitHub OIDC identity)"
        else:
            shown = f"{signing.tool}, key from secret {signing.key}"
            shown += "" if signing.tlog else ", no transparency log"
        rows.append(it.row("signing", shown, signing_from(m, package)))
    gates = image_gates(m, package, it.image.release_type)
    return rows + [it.row(f"gate {g.name}", g.run, g.path) for g in gates]


def _bake(it: _Target) -> list[Row]:
    rows = []
    for setting in it.image.bake:
        name = f" {setting.key}" if setting.key is not None else ""
        written = setting.value
        if isinstance(written, tuple):
            written = ", ".join(written) or "(empty)"
        elif isinstance(written, bool):
            written = str(written).lower()
        rows.append(it.row(f"bake {setting.attribute}{name}", written, setting.path))
    return rows


def _files(it: _Target) -> list[Row]:
    dockerfile = it.image.dockerfile
    df = next(d for d in it.plan.dockerfiles if d.path == dockerfile)
    rows = [
        it.row("dockerfile", dockerfile, None),
        it.row("template", df.template, df.template_from),
    ]
    if df.context != ".":
        rows.append(it.row("build context", df.context, it.package.context_from))
    return rows


def when_given(tag: Tag) -> str:
    """When bake gives `tag`, as a note after it (empty: always)."""
    if tag.fallback:
        needs = f", when {_and(tag.needs)} {_be(tag.needs)} set" if tag.needs else ""
        return f" (while every registry is gated off{needs})"
    return f" (when {_and(tag.conditions)} {_be(tag.conditions)} set)" if tag.conditions else ""


def _and(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _be(names: tuple[str, ...]) -> str:
    return "is" if len(names) == 1 else "are"


def tag_variable_text(variable: TagVariable) -> str:
    """A tag variable's default, CI source and description, on one line."""
    text = f"default {variable.default!r}"
    if variable.ci:
        text += f", set by the workflow to the {variable.ci}"
    return text + (f": {variable.description}" if variable.description else "")


def cuda_check_row(
    m: Manifest, image: Image, release: DistroRelease
) -> tuple[str, str, KeyPath] | None:
    """The image's CUDA check when it is not the verify Dockerfile's own (CUDA_VERSION)."""
    cuda = image.cuda
    if cuda is None or cuda.check.env == VERIFY_CUDA_ENV:
        return None
    package = m.packages[image.package]
    path = (*(package.path if package.cuda_check else release.path), "cuda_check")
    shown = f"env {cuda.check.env}" if cuda.check.env else f"run {cuda.check.run}"
    return ("cuda check", shown, path)


# The sections of an explanation, in the order it shows them.
SECTIONS = (
    _what,
    _cuda,
    _base,
    _environment,
    _args,
    _tags,
    _image_tags,
    _tests,
    _trust,
    _bake,
    _files,
)


def explained_json(target: str, note: str, rows: list[Row]) -> dict[str, Any]:
    return {
        "target": target,
        "what": note,
        "values": [{"field": r.field, "value": r.value, "from": r.origin} for r in rows],
    }


def as_text(target: str, note: str, rows: list[Row]) -> list[str]:
    """The lines `explain` prints, each value with control characters escaped."""
    shown = [(one_line(r.field), one_line(r.value), one_line(r.origin)) for r in rows]
    width = max(len(field) for field, _, _ in shown)
    lines = [one_line(f"{target}: {note}")]
    lines += [f"  {field:<{width}}  {value}  [{origin}]" for field, value, origin in shown]
    return lines


def _find(plan: Plan, target: str) -> tuple[Image, str]:
    images = {i.target: i for i in plan.images}
    if target in images:
        image = images[target]
        return image, "an image" + ("" if image.push else " built, not pushed")
    checks = {v.target: v for v in plan.verifies}
    if target in checks:
        return images[checks[target].image], f"the verify check of {checks[target].image}"
    known = sorted([*images, *checks])
    hint = did_you_mean(target, known, most=3)
    raise UsageError(f"no bake target '{target}'{hint} (bakegen list shows them all)")


def _parents(plan: Plan, image: Image) -> list[str]:
    chain: list[str] = []
    current = image
    while current.parent:
        chain.append(current.parent)
        current = plan.image(current.parent)
    return chain


def _origin(m: Manifest, path: KeyPath | None) -> str:
    if path is None:
        return "computed"
    # The loader records every key and list item it reads: a path it has not is a default.
    return str(m.sources[path]) if path in m.sources else DEFAULT_ORIGIN
