"""The pipeline in one call: load -> schema -> model -> check -> plan -> emit.

This is where the stages between reading and writing get their inputs: every file of the
workspace is read through one `Sources` (the manifest, the templates, the workspace's bake
template, the lock file), whose log is what the render read; bakegen's resources (defaults, the
verify Dockerfile, the shipped bake template) are part of its code. The compiled-template cache
is set up here, outside the stages. Writing is the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bakegen import cache
from bakegen.checks.bake_file import bake_file_problems
from bakegen.checks.manifest import manifest_problems
from bakegen.checks.outputs import output_problems
from bakegen.checks.plan import envar_warnings, plan_problems
from bakegen.checks.templates import file_trouble, template_problems
from bakegen.emit.dockerignore import read_ignores
from bakegen.emit.jinja import CompiledTemplates
from bakegen.emit.outputs import BakeTemplate, emit, render_dockerfiles
from bakegen.errors import Location, ManifestError, Problem
from bakegen.layout import BAKE_FILES, BAKE_TEMPLATE, manifest_path
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
from bakegen.sources import Sources, decode_utf8


@dataclass(frozen=True)
class Compiled:
    manifest: Manifest
    plan: Plan
    outputs: dict[str, str]
    warnings: tuple[Problem, ...] = ()
    lock_drift: tuple[str, ...] = ()  # base images the lock file does not cover, one line each


def read_manifest(
    workspace: Path, manifest: Path | None = None, sources: Sources | None = None
) -> Manifest:
    """Load, check against the schema, build the typed manifest and check its rules; files are
    read through `sources` (a reader of its own when none is given)."""
    sources = sources or Sources()
    loaded = load(manifest_path(workspace, manifest), workspace, sources)
    problems, sound = schema_problems(loaded)
    if not sound:
        _raise(problems)
    typed = build_manifest(loaded, defaults())
    _raise([*problems, *manifest_problems(typed)])
    _raise(template_problems(typed, workspace, sources))
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
    sources: Sources | None = None,
) -> Compiled:
    """Every output of the workspace, in memory; every file read through `sources` (a reader
    of its own when none is given), whose log is then what the render read."""
    sources = sources or Sources()
    typed = read_manifest(workspace, manifest, sources)
    locked = read_lock_of(workspace, manifest, sources)
    plan = plan_manifest(typed, max_targets, {i: pinned(i, p) for i, p in (locked or {}).items()})
    drift: tuple[str, ...] = ()
    if locked is not None:
        shown = display(lock_path(manifest_path(workspace, manifest)), workspace)
        drift = tuple(lock.drift(locked, lock.needs(typed, plan), shown))
    folder = cache.templates_folder()
    compiled = CompiledTemplates(folder) if folder is not None else None
    template = bake_template(workspace, sources) if fmt == "hcl" else None
    rendered = render_dockerfiles(plan, workspace, sources, compiled)
    _raise(output_problems(plan, rendered, template, workspace, sources))
    outputs = emit(
        plan,
        rendered,
        workspace,
        fmt,
        verify_dockerfile=resource_text("verify.Dockerfile"),
        bake_template=template,
        compiled=compiled,
        ignores=read_ignores(plan, workspace, sources),
    )
    _raise(bake_file_problems(typed, plan, outputs[BAKE_FILES[fmt]], template))
    return Compiled(
        typed, plan, outputs, (*plan.notes, *envar_warnings(typed, plan, outputs)), drift
    )


def read_lock_of(
    workspace: Path, manifest: Path | None = None, sources: Sources | None = None
) -> dict[str, Pin] | None:
    """The pins of the manifest's lock file; None when it has none."""
    path = lock_path(manifest_path(workspace, manifest))
    return read_lock(path, display(path, workspace), sources)


def bake_template(workspace: Path, sources: Sources) -> BakeTemplate:
    """The workspace's docker-bake.hcl.j2 if it has one, else the one bakegen ships (which the
    workspace's may extend)."""
    override = workspace / BAKE_TEMPLATE
    base = resource_text(BAKE_TEMPLATE)
    if sources.kind(override) is None and not sources.is_link(override):
        return BakeTemplate(base, BAKE_TEMPLATE, shipped=True, base=base)

    def refuse(message: str, line: int = 1, column: int = 1) -> ManifestError:
        return ManifestError([Problem(Location(BAKE_TEMPLATE, line, column), (), message)])

    trouble = file_trouble(override, sources)
    if trouble:
        raise refuse(trouble.replace("template file", "bake template"))
    try:
        raw = sources.read(override)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror}") from None
    text = decode_utf8(raw)
    if isinstance(text, tuple):
        raise refuse("file is not UTF-8 text", *text)
    return BakeTemplate(text, BAKE_TEMPLATE, shipped=False, base=base)


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ManifestError(problems)
