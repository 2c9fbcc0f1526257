"""The Jinja2 set-up shared by Dockerfile and bake-file templates, and its errors as problems."""

from __future__ import annotations

import contextlib
import traceback
from pathlib import Path

import jinja2

from bakegen.errors import KeyPath, Location, Problem


def strict_environment(loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    """An environment where an undefined name is an error and output is text, not HTML."""
    return jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def template_problem(exc: Exception, template: str, path: KeyPath, workspace: Path) -> Problem:
    """`exc`, raised while rendering `template`, as one problem at the template's file and line."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        filename, line, message = exc.filename, exc.lineno, f"template syntax error: {exc.message}"
    elif isinstance(exc, jinja2.TemplateNotFound):
        filename, line = _template_frame(exc)
        message = f"template not found: {exc.name}"
    else:
        filename, line = _template_frame(exc)
        message = f"template error: {exc}"
    shown = template
    if filename and filename != "<template>" and not filename.endswith(template):
        shown = filename
        with contextlib.suppress(ValueError):
            shown = Path(filename).resolve().relative_to(workspace.resolve()).as_posix()
    return Problem(Location(shown, line, 1), path, message)


def _template_frame(exc: BaseException) -> tuple[str | None, int]:
    """The innermost traceback frame that is template code (Jinja2 maps those to template lines)."""
    found: tuple[str | None, int] = (None, 1)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2") or frame.filename == "<template>":
            found = (frame.filename, frame.lineno or 1)
    return found
