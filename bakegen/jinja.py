"""The Jinja2 set-up shared by Dockerfile and bake-file templates, and its errors as problems."""

from __future__ import annotations

import contextlib
import stat
import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2

from bakegen.errors import KeyPath, Location, Problem


class TemplateFileError(jinja2.TemplateNotFound):
    """A template or included file that exists but cannot be read as a template."""

    def __init__(self, name: str, path: Path, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(name, f"{name}: {reason}")
        self.path = path
        self.reason = reason
        self.line = line
        self.column = column


class TemplateFolderLoader(jinja2.FileSystemLoader):
    """Templates from folders, read as bakegen reads every text: UTF-8 (a byte order mark, as
    Windows editors save, is dropped), CRLF read as LF, and a FIFO or a folder never opened."""

    def get_source(
        self, _environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)
        for searchpath in self.searchpath:
            path = Path(searchpath, *pieces)
            try:
                info = path.stat()
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                raise TemplateFileError(template, path, "is a folder, not a template file")
            if not stat.S_ISREG(info.st_mode):
                raise TemplateFileError(template, path, "is not a regular file")
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
                raise TemplateFileError(template, path, "is not UTF-8 text", line, column) from None
            text = text.removeprefix("\ufeff").replace("\r\n", "\n")
            return text, str(path), _unchanged(path, info.st_mtime)
        raise jinja2.TemplateNotFound(template)


def _unchanged(path: Path, mtime: float) -> Callable[[], bool]:
    return lambda: path.stat().st_mtime == mtime


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
    column = 1
    filename: str | None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        filename, line, message = exc.filename, exc.lineno, f"template syntax error: {exc.message}"
    elif isinstance(exc, TemplateFileError):
        filename, line, column = str(exc.path), exc.line, exc.column
        message = f"template {exc.name} {exc.reason}"
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
    return Problem(Location(shown, line, column), path, message)


def _template_frame(exc: BaseException) -> tuple[str | None, int]:
    """The innermost traceback frame that is template code (Jinja2 maps those to template lines)."""
    found: tuple[str | None, int] = (None, 1)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2") or frame.filename == "<template>":
            found = (frame.filename, frame.lineno or 1)
    return found
