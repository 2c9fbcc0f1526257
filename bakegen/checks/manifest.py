"""Check stage: the semantic rules, each in one place.

- `manifest_problems`: rules over the typed manifest that the schema cannot state (references
  resolve, hierarchies have no cycles, what a distro release must set to be built on);
- `template_problems`: the templates the plan will render exist (this reads the file system);
- `plan_problems`: what only the expanded matrix shows: two images with one tag or bake target
  name, a group name standing for two things, a tag that is not a valid image reference.
"""

from __future__ import annotations

from collections.abc import Iterator

from bakegen.checks.axes import axis_manifest_problems
from bakegen.checks.bake_values import every_setting, value_problems
from bakegen.checks.formats import _format_problems
from bakegen.checks.image_tags import image_tag_key_problems
from bakegen.checks.packages import _distro_release_problems, _package_problems, _python_problems
from bakegen.checks.trust import trust_problems
from bakegen.errors import KeyPath, Problem, did_you_mean
from bakegen.manifest.records import DEFAULT, Manifest
from bakegen.plan.tags import TAG_FIELDS, manifest_tag_fields

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
        *axis_manifest_problems(m),
        *image_tag_key_problems(m, {*TAG_FIELDS, *manifest_tag_fields(m)}),
        *value_problems(m),
        *trust_problems(m),
    ]


def _bake_problems(m: Manifest) -> Iterator[Problem]:
    """`bake:` values that another manifest key sets (the schema refuses those bakegen always
    sets): cache entries with `cache`, attestations with `attestations`, top-level `labels`."""
    attest = m.ci.attestations.sbom or m.ci.attestations.provenance
    labels = dict(m.labels)
    for setting in every_setting(m):
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
    fields = {*TAG_FIELDS, *manifest_tag_fields(m)}
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
            yield from _format_problems(m, (*rt.path, "tag"), rt.tag, fields, tag=True)
        if rt.aliases and not rt.push:
            yield m.problem((*rt.path, "aliases"), "a release type that is not pushed has no tags")
        for alias in rt.aliases:
            yield from _format_problems(m, (*alias.path, "tag"), alias.tag, fields, tag=True)


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
    """The registries list packages (or the `repository` a variant names); a variant's own
    repository is listed by some registry."""
    keys = sorted({p.repository_key for p in m.packages.values()})
    for registry in m.registries:
        for package, _ in registry.repositories:
            if package not in keys:
                yield m.problem(
                    (*registry.path, "registry", package),
                    f"no package '{package}' in `packages`{did_you_mean(package, keys)}",
                )
    listed = {package for r in m.registries for package, _ in r.repositories}
    for record in m.packages.values():
        own = record.tagging.repository
        if own is not None and m.registries and own not in listed:
            yield m.problem(
                (*record.path, "repository"),
                f"no registry lists repository '{own}'; add it under a registry's `registry:`",
            )
