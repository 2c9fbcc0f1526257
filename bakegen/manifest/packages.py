"""Packages and their variants as records: a variant is its package with the differences it
names, under the name `<package>-<variant>`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bakegen.errors import KeyPath
from bakegen.manifest.args import arg_rules
from bakegen.manifest.cuda_install import cuda_check
from bakegen.manifest.image_keys import Narrowed, ParentRef, Tagging, Where
from bakegen.manifest.image_tags import image_tag_keys
from bakegen.manifest.platforms import normalize_platform
from bakegen.manifest.records import PACKAGE_KEYS, Build, DistroPick, ImageTest, Package
from bakegen.manifest.trust import gates_of
from bakegen.manifest.values import bake_settings, versions


def build_packages(
    specs: Mapping[str, Any], top_pythons: tuple[str, ...], top_from: KeyPath, test_defaults: Any
) -> dict[str, Package]:
    """Every package, then each of its variants, by name."""
    out: dict[str, Package] = {}
    for name, spec in sorted(specs.items()):
        package = _package(name, spec, ("packages", name), top_pythons, top_from, test_defaults)
        out[name] = package
        for variant, vspec in sorted((spec.get("variants") or {}).items()):
            path: KeyPath = ("packages", name, "variants", str(variant))
            own = _package(
                f"{name}-{variant}", vspec or {}, path, top_pythons, top_from, test_defaults
            )
            out.setdefault(own.name, _variant(package, own, str(variant), vspec or {}))
    return out


def _variant(package: Package, own: Package, variant: str, spec: Mapping[str, Any]) -> Package:
    """`own` (the variant's keys as a package) completed with what it inherits from `package`."""
    given = set(spec)
    return replace(
        own,
        owner=package.name,
        variant=variant,
        parent=own.parent if "parent" in given else package.parent,
        python_versions=own.python_versions
        if "python_versions" in given
        else package.python_versions,
        python_from=own.python_from if "python_versions" in given else package.python_from,
        builds=own.builds if own.builds else package.builds,
        tests=(*package.tests, *own.tests),
        bake=(*package.bake, *own.bake),
        template=own.template if "template" in given else package.template,
        template_from=own.template_from if "template" in given else package.template_from,
        context=own.context if "context" in given else package.context,
        context_from=own.context_from if "context" in given else package.context_from,
        platforms=own.platforms if "platforms" in given else package.platforms,
        args=(*package.args, *own.args),
        cuda_check=own.cuda_check if "cuda_check" in given else package.cuda_check,
        image_tags=own.image_tags.over(package.image_tags),
        gates=(*package.gates, *own.gates),
        signing=own.signing if "signing" in given else package.signing,
        signing_from=own.signing_from if "signing" in given else package.signing_from,
    )


def _package(
    name: str,
    spec: Mapping[str, Any],
    path: KeyPath,
    top_pythons: tuple[str, ...],
    top_from: KeyPath,
    test_defaults: Any,
) -> Package:
    own = spec.get("python_versions")
    return Package(
        name=name,
        parent=parent_ref(spec.get("parent"), (*path, "parent")),
        python_versions=versions(own) if own else top_pythons,
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
                gpu=bool(test.get("gpu", test_defaults["gpu"])),
                where=where_of(test.get("where") or {}),
                path=(*path, "tests", i),
            )
            for i, test in enumerate(spec.get("tests") or [])
        ),
        path=path,
        bake=bake_settings(spec.get("bake"), (*path, "bake")),
        owner=name,
        tagging=Tagging(
            str(spec.get("tag_prefix") or ""),
            str(spec.get("tag_suffix") or ""),
            str(spec["repository"]) if spec.get("repository") else None,
        ),
        template=_folder(spec.get("template")),
        template_from=(*path, "template"),
        context=_folder(spec.get("context")),
        context_from=(*path, "context"),
        platforms=narrowed(spec.get("platforms"), (*path, "platforms")),
        args=arg_rules(spec.get("args"), (*path, "args"), where_of),
        cuda_check=cuda_check(spec.get("cuda_check")),
        image_tags=image_tag_keys(spec, path, where_of),
        gates=gates_of(spec.get("gates"), (*path, "gates")),
        signing=spec["signing"] if isinstance(spec.get("signing"), bool) else None,
        signing_from=(*path, "signing") if "signing" in spec else (),
    )


def _folder(value: Any) -> str | None:
    """A workspace-relative path as written, without a trailing slash or `./`; None if unset."""
    if not value:
        return None
    text = str(value).rstrip("/")
    while text.startswith("./"):
        text = text[2:]
    return text or "."


def narrowed(values: Any, path: KeyPath) -> Narrowed:
    """A `platforms` key that narrows an image's platforms (unset: it does not)."""
    if not values:
        return Narrowed()
    return Narrowed(tuple(dict.fromkeys(normalize_platform(str(v)) for v in values)), path)


def parent_ref(value: Any, path: KeyPath) -> ParentRef | None:
    """`parent: <package>` or `parent: {package, variant, release_type, where}`."""
    if not value:
        return None
    if not isinstance(value, dict):
        return ParentRef(str(value), None, Where(), path)
    name = str(value["package"])
    if value.get("variant"):
        name = f"{name}-{value['variant']}"
    kind = value.get("release_type")
    return ParentRef(name, str(kind) if kind else None, where_of(value.get("where") or {}), path)


def where_of(spec: Mapping[str, Any]) -> Where:
    return Where(**{k: str(v) for k, v in spec.items()})


def _picks(items: list[Any], path: KeyPath) -> tuple[DistroPick, ...]:
    picks: list[DistroPick] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            picks.extend(
                DistroPick(str(d), versions(v), (*path, index, str(d))) for d, v in item.items()
            )
        else:
            picks.append(DistroPick(str(item), None, (*path, index)))
    return tuple(picks)
