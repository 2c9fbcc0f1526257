"""The pipeline in one call: load -> schema -> model -> check -> plan -> emit.

This is where the stages between reading and writing get their inputs: it reads the manifest,
bakegen's resources (defaults, the verify Dockerfile, the shipped bake template) and the
workspace's bake-template override, and passes text and values in. Writing is the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bakegen import cache
from bakegen.checks.manifest import manifest_problems
from bakegen.checks.outputs import output_problems
from bakegen.checks.plan import envar_warnings, plan_problems
from bakegen.checks.templates import file_trouble, template_problems
from bakegen.emit.outputs import BakeTemplate, emit, render_dockerfiles
from bakegen.errors import Location, ManifestError, Problem
from bakegen.layout import BAKE_TEMPLATE, manifest_path
from bakegen.load.merge import load
from bakegen.manifest.build import build_manifest
from bakegen.manifest.records import Manifest
from bakegen.pin import lock
from bakegen.pin.lock import Pin, display, lock_path, pinned, read_lock
from bakegen.plan.build import build_plan
from bakegen.plan.records import Plan
from bakegen.resources import resource_text
from bakegen.schema.document import defaults
from bakegen.schema.messages import schema_problems
from bakegen.sources import decode_utf8


@dataclass(frozen=True)
class Compiled:
    manifest: Manifest
    plan: Plan
    outputs: dict[str, str]
    warnings: tuple[Problem, ...] = ()
    lock_drift: tuple[str, ...] = ()  # base images the lock file does not cover, one line each


def read_manifest(workspace: Path, manifest: Path | None = None) -> Manifest:
    """Load, check against the schema, build the typed manifest and check its rules."""
    loaded = load(manifest_path(workspace, manifest), workspace)
    problems, sound = schema_problems(loaded)
    if not sound:
        _raise(problems)
    typed = build_manifest(loaded, defaults())
    _raise([*problems, *manifest_problems(typed)])
    _raise(template_problems(typed, workspace))
    return typed


def plan_manifest(
    typed: Manifest, max_targets: int | None = None, pins: Mapping[str, str] | None = None
) -> Plan:
    plan = build_plan(typed, max_targets, pins)
    _raise(plan_problems(typed, plan))
    return plan


def plan_workspace(
    workspace: Path, manifest: Path | None = None, max_targets: int | None = None
) -> Plan:
    return plan_manifest(read_manifest(workspace, manifest), max_targets)


def compile_workspace(
    workspace: Path,
    manifest: Path | None = None,
    fmt: str = "hcl",
    max_targets: int | None = None,
) -> Compiled:
    typed = read_manifest(workspace, manifest)
    locked = read_lock_of(workspace, manifest)
    plan = plan_manifest(typed, max_targets, {i: pinned(i, p) for i, p in (locked or {}).items()})
    drift: tuple[str, ...] = ()
    if locked is not None:
        shown = display(lock_path(manifest_path(workspace, manifest)), workspace)
        drift = tuple(lock.drift(locked, lock.needs(typed, plan), shown))
    template = bake_template(workspace) if fmt == "hcl" else None
    rendered = render_dockerfiles(plan, workspace)
    _raise(output_problems(plan, rendered, template, workspace))
    outputs = emit(
        plan,
        rendered,
        workspace,
        fmt,
        verify_dockerfile=resource_text("verify.Dockerfile"),
        bake_template=template,
    )
    return Compiled(typed, plan, outputs, tuple(envar_warnings(typed, plan, outputs)), drift)


def read_lock_of(workspace: Path, manifest: Path | None = None) -> dict[str, Pin] | None:
    """The pins of the manifest's lock file; None when it has none."""
    path = lock_path(manifest_path(workspace, manifest))
    return read_lock(path, display(path, workspace))


def bake_template(workspace: Path) -> BakeTemplate:
    """The workspace's docker-bake.hcl.j2 if it has one, else the one bakegen ships (which the
    workspace's may extend)."""
    override = workspace / BAKE_TEMPLATE
    base = resource_text(BAKE_TEMPLATE)
    if not override.exists() and not override.is_symlink():
        cache.note(override, None)
        return BakeTemplate(base, BAKE_TEMPLATE, shipped=True, base=base)
    trouble = file_trouble(override)
    if trouble:
        _raise(
            [
                Problem(
                    Location(BAKE_TEMPLATE, 1, 1),
                    (),
                    f"{trouble.replace('template file', 'bake template')}",
                )
            ]
        )
    try:
        raw = override.read_bytes()
    except OSError as exc:
        raise ManifestError(
            [Problem(Location(BAKE_TEMPLATE, 1, 1), (), f"cannot read: {exc.strerror}")]
        ) from None
    cache.note(override, raw)
    text = decode_utf8(raw)
    if isinstance(text, tuple):
        raise ManifestError([Problem(Location(BAKE_TEMPLATE, *text), (), "file is not UTF-8 text")])
    return BakeTemplate(text, BAKE_TEMPLATE, shipped=False, base=base)


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ManifestError(problems)
