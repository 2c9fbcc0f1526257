"""The Jinja2 set-up shared by Dockerfile and bake-file templates, and its errors as problems."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from bakegen import cache_folder
from bakegen.errors import KeyPath, Location, Problem, did_you_mean
from bakegen.sources import A_FILE, FOLDER, OTHER, Sources, decode_utf8


class TemplateFileError(Exception):
    """A template or included file that cannot be read as a template, at a place in it."""

    def __init__(self, filename: str, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.filename = filename
        self.line = line
        self.column = column
        self.message = message


class TemplateLoader(jinja2.BaseLoader):
    """Templates from folders searched in order, read through the render's `Sources` as UTF-8
    text with LF line endings.

    A leading byte order mark is dropped and CRLF (or CR) line endings become LF. A file that is
    not UTF-8, or a name that is a folder or a FIFO, is a `TemplateFileError`; nothing that is not
    a regular file is ever opened.
    """

    def __init__(self, searchpath: Sequence[Path], sources: Sources) -> None:
        self.searchpath = list(searchpath)
        self.sources = sources

    def get_source(
        self,
        environment: jinja2.Environment,  # noqa: ARG002
        template: str,
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        parts = jinja2.loaders.split_template_path(template)
        for folder in self.searchpath:
            path = folder.joinpath(*parts)
            try:
                kind = self.sources.kind(path)
            except OSError:
                kind = None
            if kind is None:
                continue
            filename = os.path.normpath(path)
            if kind != A_FILE:
                raise TemplateFileError(filename, 1, 1, _NOT_A_TEMPLATE[kind])
            try:
                raw = self.sources.read(path)
            except OSError as exc:
                raise TemplateFileError(filename, 1, 1, f"cannot read: {exc.strerror}") from None
            text = decode_utf8(raw)
            if isinstance(text, tuple):
                raise TemplateFileError(filename, *text, "file is not UTF-8 text")
            # The render's Sources hands out the same bytes each time: never out of date.
            return text.replace("\r\n", "\n").replace("\r", "\n"), filename, _always
        raise jinja2.TemplateNotFound(template)


_NOT_A_TEMPLATE = {FOLDER: "is a folder, not a template file", OTHER: "is not a regular file"}


def _always() -> bool:
    return True


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled by earlier renders, kept in a folder of bakegen's cache (one per
    bakegen: its code and libraries, since the code Jinja compiles depends on both; made and
    pruned by `bakegen.cache.templates_folder`). Each entry is named by Jinja's key of the
    template (its name and file name) and holds the digest of the text it was compiled from,
    which Jinja compares with the text it is given; it is read back only when bakegen wrote it
    there (`bakegen.cache_folder.read`), so a swapped entry is compiled again, never run. A
    cache that cannot be written is no error (the template is compiled again next time)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _entry(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.directory / f"{bucket.key}.code"

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        cache_folder.keep(self._entry(bucket), bucket.bytecode_to_string())

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        raw = cache_folder.read(self._entry(bucket))
        if raw is None:
            return
        try:
            bucket.bytecode_from_string(raw)
        except Exception:  # written by another Python's Jinja, say: compiled again
            bucket.reset()

    def outline(self, source: str, parse: Callable[[str], Any]) -> Any:
        """What `parse` makes of a template's text (plain JSON data), kept beside the compiled
        templates under the digest of the text: the template checks read a template's
        includes and comparisons without parsing it again. Pruned with the compiled templates;
        an entry that cannot be read back (or written) only costs a parse."""
        path = self.directory / f"{hashlib.sha256(source.encode()).hexdigest()}.outline"
        raw = cache_folder.read(path)
        if raw is not None:
            with contextlib.suppress(ValueError, RecursionError):
                return json.loads(raw.decode("utf-8"))
        text = json.dumps(parse(source))
        cache_folder.keep(path, text.encode())
        return json.loads(text)  # as it reads back next time


def strict_environment(
    loader: jinja2.BaseLoader | None = None, compiled: CompiledTemplates | None = None
) -> jinja2.Environment:
    """An environment where an undefined name is an error and output is text, not HTML; with
    `compiled`, its templates are compiled once per bakegen."""
    return jinja2.Environment(
        loader=loader,
        bytecode_cache=compiled,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


_UNDEFINED = re.compile(r"has no attribute '([^']+)'|^'([^']+)' is undefined")


def _names_in(value: object, depth: int = 0) -> set[str]:
    """The names a template can reach in `value`: mapping keys, a few levels deep."""
    if not isinstance(value, dict) or depth > 2:
        return set()
    found = {str(k) for k in value}
    for child in value.values():
        found |= _names_in(child, depth + 1)
    return found


def _undefined(
    exc: jinja2.UndefinedError,
    filename: str | None,
    line: int,
    context: Mapping[str, object],
    sources: Sources | None,
) -> tuple[str, int]:
    """The message for an undefined name, with the closest name the template could mean, and
    the column where the name is written."""
    match = _UNDEFINED.search(str(exc.message or ""))
    if not match:
        return f"template error: {exc}", 1
    name = match.group(1) or match.group(2)
    choices = sorted(_names_in(dict(context)))
    on_none = str(exc.message).startswith("'None' ")  # e.g. `cuda.version` where cuda is none
    hint = "" if on_none else did_you_mean(name, choices)
    column = 1
    raw = sources.handed(filename) if sources and filename else None
    if raw is not None:
        with contextlib.suppress(IndexError, UnicodeDecodeError):
            source = raw.decode("utf-8").split("\n")[line - 1]
            found = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", source)
            column = found.start() + 1 if found else 1
    return f"template error: {exc.message}{hint}", column


def template_problem(
    exc: Exception,
    template: str,
    path: KeyPath,
    workspace: Path,
    context: Mapping[str, object] | None = None,
    sources: Sources | None = None,
) -> Problem:
    """`exc`, raised while rendering `template` with `context`, as one problem at the
    template's file, line and column (the column of an undefined name found in the template's
    text as `sources` handed it out)."""
    column = 1
    filename: str | None
    if isinstance(exc, TemplateFileError):
        filename, line, column, message = exc.filename, exc.line, exc.column, exc.message
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        filename, line, message = exc.filename, exc.lineno, f"template syntax error: {exc.message}"
    elif isinstance(exc, jinja2.TemplateNotFound):
        filename, line = _template_frame(exc)
        message = f"template not found: {exc.name}"
    elif isinstance(exc, jinja2.UndefinedError):
        filename, line = _template_frame(exc)
        message, column = _undefined(exc, filename, line, context or {}, sources)
    else:
        filename, line = _template_frame(exc)
        message = f"template error: {exc}"
    return Problem(Location(shown_file(filename, template, workspace), line, column), path, message)


def shown_file(filename: str | None, template: str, workspace: Path) -> str:
    """How a template's file is named in a problem: relative to the workspace when inside it."""
    shown = template
    if filename and filename != "<template>" and not filename.endswith(template):
        shown = filename
        with contextlib.suppress(ValueError):
            shown = Path(filename).resolve().relative_to(workspace.resolve()).as_posix()
    return shown


def _template_frame(exc: BaseException) -> tuple[str | None, int]:
    """The innermost traceback frame that is template code (Jinja2 maps those to template lines)."""
    found: tuple[str | None, int] = (None, 1)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2") or frame.filename == "<template>":
            found = (frame.filename, frame.lineno or 1)
    return found
