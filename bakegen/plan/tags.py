"""Tags: a tag format expanded for one image."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from string import Formatter

from bakegen.errors import KeyPath
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import Text, Var
from bakegen.plan.cells import _Cell
from bakegen.plan.cuda import CUDA_FIELDS
from bakegen.plan.records import Tag

# Literal text in a tag format.
TAG_TEXT = re.compile(r"^[A-Za-z0-9_.-]*\Z")


_Field = Callable[[_Cell, str], Text]


def _cuda_field(attribute: str) -> _Field:
    return lambda cell, _: (str(getattr(cell.cuda, attribute)) if cell.cuda else "",)


def _cuda_suffix(cell: _Cell, _: str) -> Text:
    cuda = cell.cuda
    return (f"-cuda{cuda.shortened}" if cuda and len(cell.cudas) > 1 else "",)


# Every field a tag format may name (the checks of tag formats read them here), and its text
# for one image: its cell and Python version. `release` is the older name of `release_type`.
TAG_FIELDS: dict[str, _Field] = {
    "version": lambda _, __: (Var("VERSION"),),
    "python": lambda _, python: (python,),
    "suffix": lambda cell, _: (cell.release.add_to_tags,),
    **{name: _cuda_field(attribute) for name, attribute in CUDA_FIELDS.items()},
    "cuda_suffix": _cuda_suffix,
    "distro": lambda cell, _: (cell.release.distro_id,),
    "package": lambda cell, _: (cell.package.name,),
    "release_type": lambda cell, _: (cell.release_type,),
    "release": lambda cell, _: (cell.release_type,),
}


def _tags(
    m: Manifest, cell: _Cell, python: str, fmt: str, alias: KeyPath | None
) -> tuple[Tag, ...]:
    """The tags of format `fmt` for one image: one per registry naming the package, or its
    local name (also given, as a fallback, while every registry is gated off)."""
    tagging = cell.package.tagging
    tag = _join(_join((tagging.prefix,), _format_tag(fmt, cell, python)), (tagging.suffix,))
    repos = [
        (r.name, r.only_if, repo)
        for r in m.registries
        if (repo := r.repository(cell.package.repository_key)) is not None
    ]
    local = Tag("local", None, _join((f"{cell.package.repository_key}:",), tag), alias=alias)
    tags = tuple(
        Tag(name, gate, _join((f"{repo}:",), tag), alias=alias) for name, gate, repo in repos
    )
    if not tags:
        return (local,)
    if all(t.gate for t in tags):  # a local name while every registry is gated off
        return (*tags, replace(local, fallback=True))
    return tags


def _format_tag(fmt: str, cell: _Cell, python: str) -> Text:
    out: Text = ()
    for literal, field, _, _ in Formatter().parse(fmt):
        out = _join(out, (literal,))
        if field is not None:
            out = _join(out, TAG_FIELDS[field](cell, python))
    return out


def _join(a: Text, b: Text) -> Text:
    """Concatenate texts, merging adjacent literal strings and dropping empty ones."""
    out: list[str | Var] = list(a)
    for part in b:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + part
                continue
        out.append(part)
    return tuple(out)
