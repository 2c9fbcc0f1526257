"""Emit stage: every output file rendered in memory, keyed by its path in the workspace."""

from __future__ import annotations

from pathlib import Path

import jinja2

from bakegen import dockerfile_checks, dockerfiles
from bakegen.bakefile import BakeTemplate, bake_model, render_hcl, render_json
from bakegen.errors import ManifestError, Problem
from bakegen.layout import BAKE_FILES, VERIFY_DOCKERFILE
from bakegen.model import Plan

__all__ = ["BakeTemplate", "emit"]


def emit(
    plan: Plan,
    workspace: Path,
    fmt: str,
    *,
    verify_dockerfile: str,
    bake_template: BakeTemplate | None,
) -> dict[str, str]:
    """Render every Dockerfile and the bake file; raise with every template problem at once.

    Dockerfile templates are read from the workspace by the Jinja loader; everything else comes
    in as text.
    """
    outputs: dict[str, str] = {}
    problems: list[Problem] = []
    envs: dict[str, jinja2.Environment] = {}  # one per templates folder: compiled once per run
    for df in plan.dockerfiles:
        env = envs.get(df.templates_dir) or envs.setdefault(
            df.templates_dir, dockerfiles.environment(workspace, df.templates_dir)
        )
        text = dockerfiles.render(df, workspace, env)
        if isinstance(text, Problem):
            problems.append(text)
        else:
            outputs[df.path] = text
            problems.extend(dockerfile_checks.problems(df, text, workspace))
    if problems:
        raise ManifestError(problems)
    if plan.verifies:
        outputs[VERIFY_DOCKERFILE] = verify_dockerfile
    model = bake_model(plan)
    if fmt == "hcl":
        assert bake_template is not None, "an HCL bake file needs its template"
        outputs[BAKE_FILES[fmt]] = render_hcl(model, bake_template, workspace)
    else:
        outputs[BAKE_FILES[fmt]] = render_json(model)
    return outputs
