"""Dockerfiles from the workspace's Jinja2 templates (StrictUndefined: a missing name is an error)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jinja2

from bakegen.emit.jinja import (
    CompiledTemplates,
    TemplateFileError,
    TemplateLoader,
    strict_environment,
    template_problem,
)
from bakegen.errors import Problem
from bakegen.layout import MARKER
from bakegen.manifest.platforms import CUDA_ARCH
from bakegen.plan.records import Cuda, Dockerfile
from bakegen.sources import Sources


def env_quote(value: str) -> str:
    """A double-quoted Dockerfile word (ENV/LABEL value) whose value is exactly `value`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def environment(
    workspace: Path,
    templates_dir: str,
    sources: Sources,
    compiled: CompiledTemplates | None = None,
) -> jinja2.Environment:
    """The templates folder's environment: templates read through `sources`, searched in the
    folder, its parent, then the workspace."""
    folder = workspace / templates_dir
    env = strict_environment(TemplateLoader([folder, folder.parent, workspace], sources), compiled)
    env.filters["env_quote"] = env_quote
    return env


def context(df: Dockerfile) -> dict[str, Any]:
    """The names a Dockerfile template sees (documented in docs/reference/templates.md)."""
    ctx = {f.name: getattr(df, f.name) for f in dataclasses.fields(df)}
    ctx["release"] = df.release_type  # the older name of `release_type`
    ctx["envars"] = dict(df.envars)
    ctx["cuda"] = _cuda(df.cuda)
    ctx["python_version"] = df.python_versions[0] if df.python_versions else ""
    ctx["cuda_arch"] = CUDA_ARCH
    return ctx


def _cuda(cuda: Cuda | None) -> dict[str, Any] | None:
    if cuda is None:
        return None
    out = dataclasses.asdict(cuda)
    out["components"] = dict(cuda.components)
    return out


def render(df: Dockerfile, workspace: Path, env: jinja2.Environment) -> str | Problem:
    """The Dockerfile's text, or the problem that stopped its template; `env` is the
    `environment` of its templates folder (shared, each template is compiled once)."""
    name = Path(df.template).name  # looked up in the templates folder first (the check's path)
    where = ("releases", df.distro, df.distro_version, "templates_dir")
    names = context(df)
    try:
        body = env.get_template(name).render(names)
    except Exception as exc:  # any error raised by a user's template
        sources = env.loader.sources if isinstance(env.loader, TemplateLoader) else None
        problem = template_problem(exc, df.template, where, workspace, names, sources)
        if isinstance(
            exc, (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound, TemplateFileError)
        ):
            return problem  # about the file, whatever image is rendered
        image = f"package {df.package}, {df.release_type} on {df.distro_id}"
        return dataclasses.replace(problem, message=f"{problem.message} ({image})")
    header = df.header if not df.header or df.header.endswith("\n") else df.header + "\n"
    return f"{header}# {MARKER} (template: {df.template})\n{body}"
