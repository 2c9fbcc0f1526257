"""Emit stage: every output file rendered in memory, keyed by its path in the workspace."""

from __future__ import annotations

from pathlib import Path

from bakegen import dockerfile_checks, dockerfiles
from bakegen.bakefile import bake_model, render_hcl, render_json
from bakegen.errors import ManifestError, Problem
from bakegen.layout import BAKE_FILES, VERIFY_DOCKERFILE
from bakegen.model import Plan
from bakegen.schema import resource_text


def emit(plan: Plan, workspace: Path, fmt: str = "hcl") -> dict[str, str]:
    """Render every Dockerfile and the bake file; raise with every template problem at once."""
    outputs: dict[str, str] = {}
    problems: list[Problem] = []
    for df in plan.dockerfiles:
        text = dockerfiles.render(df, workspace)
        if isinstance(text, Problem):
            problems.append(text)
        else:
            outputs[df.path] = text
            problems.extend(dockerfile_checks.problems(df, text, workspace))
    if problems:
        raise ManifestError(problems)
    if plan.verifies:
        outputs[VERIFY_DOCKERFILE] = resource_text("verify.Dockerfile")
    model = bake_model(plan)
    outputs[BAKE_FILES[fmt]] = render_hcl(model, workspace) if fmt == "hcl" else render_json(model)
    return outputs
