"""Emit stage: every output file rendered in memory, keyed by its path in the workspace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jinja2

from bakegen.checks import dockerfiles as dockerfile_checks
from bakegen.checks.templates import comparison_problems
from bakegen.emit import dockerfiles
from bakegen.emit.bake_template import BakeTemplate
from bakegen.emit.bakefile import bake_model, render_hcl, render_json
from bakegen.emit.jinja import CompiledTemplates
from bakegen.errors import ManifestError, Problem
from bakegen.layout import BAKE_FILES, VERIFY_DOCKERFILE
from bakegen.plan.records import Plan
from bakegen.sources import Sources

__all__ = ["BakeTemplate", "emit"]


def emit(
    plan: Plan,
    workspace: Path,
    fmt: str,
    *,
    sources: Sources,
    verify_dockerfile: str,
    bake_template: BakeTemplate | None,
    compiled: CompiledTemplates | None = None,
) -> dict[str, str]:
    """Render every Dockerfile and the bake file; raise with every template problem at once.

    Dockerfile templates are read from the workspace through `sources` by the Jinja loader;
    everything else comes in as text. `compiled` keeps compiled templates between renders.
    """
    outputs: dict[str, str] = {}
    problems: list[Problem] = []
    envs: dict[str, jinja2.Environment] = {}  # one per templates folder: compiled once per run
    for df in plan.dockerfiles:
        env = envs.get(df.templates_dir) or envs.setdefault(
            df.templates_dir,
            dockerfiles.environment(workspace, df.templates_dir, sources, compiled),
        )
        text = dockerfiles.render(df, workspace, env)
        if isinstance(text, Problem):
            problems.append(text)
        else:
            outputs[df.path] = text
            problems.extend(dockerfile_checks.problems(df, text, workspace, sources))
    known = {
        "package": {i.package for i in plan.images},
        "release type": {i.release_type for i in plan.images},
        "distro": {i.distro for i in plan.images},
    }
    checked: set[tuple[str, str]] = set()
    for df in plan.dockerfiles:
        if (df.templates_dir, df.template) in checked:
            continue
        checked.add((df.templates_dir, df.template))
        where = ("releases", df.distro, df.distro_version, "templates_dir")
        problems += comparison_problems(
            envs[df.templates_dir], Path(df.template).name, known, where, workspace
        )
    if problems:
        raise ManifestError(once_per_template_line(problems))
    if plan.verifies:
        outputs[VERIFY_DOCKERFILE] = verify_dockerfile
    model = bake_model(plan)
    if fmt == "hcl":
        assert bake_template is not None, "an HCL bake file needs its template"
        outputs[BAKE_FILES[fmt]] = render_hcl(model, bake_template, workspace, compiled)
    else:
        outputs[BAKE_FILES[fmt]] = render_json(model)
    return outputs


IMAGE_NOTE = " (package "


def once_per_template_line(problems: list[Problem]) -> list[Problem]:
    """One problem per template line and message: a template shared by many images is told
    once, naming the first image it failed for and how many more."""
    groups: dict[tuple[object, str], list[Problem]] = {}
    for problem in problems:
        base = problem.message.split(IMAGE_NOTE, 1)[0]
        groups.setdefault((problem.location, base), []).append(problem)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) > 1 and first.message.endswith(")"):
            first = replace(first, message=f"{first.message[:-1]}; and {len(same) - 1} more)")
        out.append(first)
    return out
