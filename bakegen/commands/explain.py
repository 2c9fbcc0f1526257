"""`bakegen explain TARGET`: every resolved value of one bake target, each with where it came
from (the manifest's file:line, through `<<:` anchors and list aliases, or bakegen's default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bakegen.errors import KeyPath, UsageError, did_you_mean
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import shown
from bakegen.plan.records import Image, Plan

DEFAULT_ORIGIN = "default"


@dataclass(frozen=True)
class Row:
    field: str
    value: str
    origin: str  # file:line:col, or "default"


def explain(m: Manifest, plan: Plan, target: str) -> tuple[str, list[Row]]:
    """The target explained: (what it is, its rows). A verify target explains its image."""
    image, note = _find(plan, target)
    release = next(
        r for r in m.releases if (r.distro, r.version) == (image.distro, image.distro_version)
    )
    package = m.packages[image.package]
    rt = m.release_types[image.release_type]
    rows: list[Row] = []

    def add(field: str, value: object, path: KeyPath | None) -> None:
        rows.append(Row(field, str(value), _origin(m, path)))

    add("package", image.package, package.path)
    add("release type", image.release_type, rt.path)
    add("distro release", f"{image.distro} {image.distro_version}", release.path)
    add("python", image.python, package.python_from)
    if release.python_versions is not None:
        add(
            "python offered by the distro release",
            ", ".join(release.python_versions),
            (*release.path, "python_versions"),
        )
    if release.exclude_python:
        add(
            "python excluded by the distro release",
            ", ".join(release.exclude_python),
            (*release.path, "exclude_python"),
        )
    if image.cuda:
        cuda = m.cuda_versions[image.cuda.version]
        add("cuda", image.cuda.version, (*release.path, "cuda"))
        for name, version in cuda.all_components:
            add(f"cuda component {name}", version, (*cuda.path, name))
        add("cuda repository", image.cuda.repo_url, (*release.path, "cuda_prefix_url"))
        if image.cuda.requires:
            add("NVIDIA_REQUIRE_CUDA", image.cuda.requires, (*release.path, "cuda_requires"))
    add("platforms", ", ".join(image.platforms), release.platforms_from)
    add("base image", release.base_image, (*release.path, "base_image"))
    chain = _parents(plan, image)
    if chain:
        source = (*package.path, "parent") if package.parent else rt.parent_from
        add("built FROM", " <- ".join(chain), source)
    for index, (key, value) in enumerate(release.envars):
        add(f"envar {key}", value, (*release.path, "envars", index))
    for key, value in m.labels:
        add(f"label {key}", value, ("labels", key))
    for index, secret in enumerate(m.secrets):
        add(
            f"secret {secret.id}",
            f"env {secret.env}" if secret.env else f"file {secret.src}",
            ("secrets", index),
        )
    if rt.tag:
        add("tag format", rt.tag, (*rt.path, "tag"))
    for alias in rt.aliases:
        if any(t.alias == alias.path for t in image.tags):
            add("alias", alias.tag, alias.path)
    registries = {r.name: r for r in m.registries}
    for tag in image.tags:
        text = shown(tag.text)
        when = f" (when {tag.gate} is set)" if tag.gate else ""
        when = " (while every registry is gated off)" if tag.fallback else when
        registry = registries.get(tag.registry)
        where: KeyPath = (
            (*registry.path, "registry", image.package)
            if registry
            else tag.alias or (*rt.path, "tag")
        )
        add("tag", text + when, where)
    for test in image.tests:
        add(
            f"test {test.name}",
            test.run + (" (gpu)" if test.gpu else ""),
            next(t.path for t in package.tests if t.name == test.name),
        )
    for setting in image.bake:
        name = f" {setting.key}" if setting.key is not None else ""
        written = setting.value
        if isinstance(written, tuple):
            written = ", ".join(written) or "(empty)"
        elif isinstance(written, bool):
            written = str(written).lower()
        add(f"bake {setting.attribute}{name}", written, setting.path)
    add("dockerfile", image.dockerfile, None)
    template = next(d.template for d in plan.dockerfiles if d.path == image.dockerfile)
    add("template", template, (*release.path, "templates_dir"))
    return note, rows


def as_json(target: str, note: str, rows: list[Row]) -> dict[str, Any]:
    return {
        "target": target,
        "what": note,
        "values": [{"field": r.field, "value": r.value, "from": r.origin} for r in rows],
    }


def as_text(target: str, note: str, rows: list[Row]) -> list[str]:
    width = max(len(r.field) for r in rows)
    lines = [f"{target}: {note}"]
    lines += [f"  {r.field:<{width}}  {r.value}  [{r.origin}]" for r in rows]
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
