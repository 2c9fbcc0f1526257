"""Checks of what emit rendered, before anything is written: each Dockerfile's template
failure or what the Dockerfile checks find in its text, then the templates' comparisons with
names the manifest does not have; and an extending bake template's shape."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jinja2

from bakegen.checks import dockerfiles as dockerfile_checks
from bakegen.checks.bake_template import shape_problems
from bakegen.checks.templates import comparison_problems
from bakegen.emit.bake_template import BakeTemplate, loader
from bakegen.emit.jinja import strict_environment
from bakegen.emit.outputs import Rendered
from bakegen.errors import Problem
from bakegen.plan.records import Plan
from bakegen.sources import Sources


def output_problems(
    plan: Plan,
    rendered: Rendered,
    bake_template: BakeTemplate | None,
    workspace: Path,
    sources: Sources,
) -> list[Problem]:
    """The problems of the rendered Dockerfiles, each template line told once; when there are
    none, those of the bake template."""
    problems = dockerfile_problems(plan, rendered, workspace, sources)
    problems += _comparisons(plan, rendered, workspace)
    if problems:
        return once_per_template_line(problems)
    return bake_template_problems(bake_template) if bake_template is not None else []


def dockerfile_problems(
    plan: Plan, rendered: Rendered, workspace: Path, sources: Sources
) -> list[Problem]:
    """In the plan's order, each Dockerfile's template failure, or its text's problems."""
    problems: list[Problem] = []
    for df in plan.dockerfiles:
        text = rendered.dockerfiles[df.path]
        if isinstance(text, Problem):
            problems.append(text)
        else:
            problems.extend(dockerfile_checks.problems(df, text, workspace, sources))
    return problems


def _comparisons(plan: Plan, rendered: Rendered, workspace: Path) -> list[Problem]:
    """Each template's comparisons with names the plan's images do not have (once a template)."""
    known = {
        "package": {i.package for i in plan.images},
        "release type": {i.release_type for i in plan.images},
        "distro": {i.distro for i in plan.images},
    }
    problems: list[Problem] = []
    checked: set[tuple[str, str]] = set()
    for df in plan.dockerfiles:
        if (df.templates_dir, df.template) in checked:
            continue
        checked.add((df.templates_dir, df.template))
        where = ("releases", df.distro, df.distro_version, "templates_dir")
        env = rendered.environments[df.templates_dir]
        problems += comparison_problems(env, Path(df.template).name, known, where, workspace)
    return problems


def bake_template_problems(template: BakeTemplate) -> list[Problem]:
    """The shape of an extending bake template; one that does not parse is told where it is
    rendered."""
    try:
        return shape_problems(strict_environment(loader(template)), template)
    except jinja2.TemplateSyntaxError:
        return []


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
