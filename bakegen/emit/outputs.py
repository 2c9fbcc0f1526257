"""Emit stage: every output file rendered in memory, keyed by its path in the workspace.

Rendering and checking are apart: `render_dockerfiles` renders every Dockerfile, the check
stage (`checks.outputs`) reads what it gives, and `emit` then makes the bake file and gathers
the files to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from bakegen.emit import dockerfiles
from bakegen.emit.bake_template import BakeTemplate
from bakegen.emit.bakefile import bake_model, render_hcl, render_json
from bakegen.emit.dockerignore import ignore_files
from bakegen.emit.jinja import CompiledTemplates
from bakegen.errors import Problem
from bakegen.layout import BAKE_FILES, VERIFY_DOCKERFILE
from bakegen.plan.records import Plan
from bakegen.sources import Sources

__all__ = ["BakeTemplate", "Rendered", "emit", "render_dockerfiles"]


@dataclass(frozen=True)
class Rendered:
    """A plan's Dockerfiles rendered: by path, in the plan's order, each one's text or the
    problem that stopped its template; and the Jinja environment of each templates folder
    (which read the templates)."""

    dockerfiles: dict[str, str | Problem]
    environments: dict[str, jinja2.Environment]


def render_dockerfiles(
    plan: Plan, workspace: Path, sources: Sources, compiled: CompiledTemplates | None = None
) -> Rendered:
    """Render every Dockerfile of `plan` from the workspace's templates, read through `sources`
    by the Jinja loader (each templates folder gets one environment: its templates are compiled
    once per run; `compiled` keeps compiled templates between renders)."""
    texts: dict[str, str | Problem] = {}
    envs: dict[str, jinja2.Environment] = {}
    for df in plan.dockerfiles:
        env = envs.get(df.templates_dir) or envs.setdefault(
            df.templates_dir,
            dockerfiles.environment(workspace, df.templates_dir, sources, compiled),
        )
        texts[df.path] = dockerfiles.render(df, workspace, env)
    return Rendered(texts, envs)


def emit(
    plan: Plan,
    rendered: Rendered,
    workspace: Path,
    fmt: str,
    *,
    verify_dockerfile: str,
    bake_template: BakeTemplate | None,
    compiled: CompiledTemplates | None = None,
    ignores: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every output file: the rendered Dockerfiles (which have passed their checks), the verify
    Dockerfile, each context's `.dockerignore` and the bake file. Everything but the Dockerfile templates comes in as text."""
    outputs: dict[str, str] = {}
    for path, text in rendered.dockerfiles.items():
        assert isinstance(text, str), f"{path}: emitted although its template failed"
        outputs[path] = text
    outputs.update(ignore_files(plan, ignores or {}))
    if plan.verifies:
        outputs[VERIFY_DOCKERFILE] = verify_dockerfile
    model = bake_model(plan)
    if fmt == "hcl":
        assert bake_template is not None, "an HCL bake file needs its template"
        outputs[BAKE_FILES[fmt]] = render_hcl(model, bake_template, workspace, compiled)
    else:
        outputs[BAKE_FILES[fmt]] = render_json(model)
    return outputs
