"""Tags: a tag format expanded for one image."""

from __future__ import annotations

import re
from dataclasses import replace
from string import Formatter

from bakegen.errors import KeyPath
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import Text, Var
from bakegen.plan.cells import _Cell
from bakegen.plan.records import Tag

# Literal text in a tag format.
TAG_TEXT = re.compile(r"^[A-Za-z0-9_.-]*\Z")


def _tags(
    m: Manifest, cell: _Cell, python: str, fmt: str, alias: KeyPath | None
) -> tuple[Tag, ...]:
    """The tags of format `fmt` for one image: one per registry naming the package, or its
    local name (also given, as a fallback, while every registry is gated off)."""
    release, cuda, kind, package = cell.release, cell.cuda, cell.release_type, cell.package.name
    fields: dict[str, Text] = {
        "version": (Var("VERSION"),),
        "python": (python,),
        "suffix": (release.add_to_tags,),
        "cuda": (cuda.version if cuda else "",),
        "cuda_short": (cuda.shortened if cuda else "",),
        "cuda_major": (cuda.major if cuda else "",),
        "cuda_suffix": (f"-cuda{cuda.shortened}" if cuda and len(cell.cudas) > 1 else "",),
        "distro": (release.distro_id,),
        "package": (package,),
        "release_type": (kind,),
        "release": (kind,),
    }
    tag = _format_tag(fmt, fields)
    repos = [
        (r.name, r.only_if, repo)
        for r in m.registries
        if (repo := r.repository(package)) is not None
    ]
    local = Tag("local", None, _join((f"{package}:",), tag), alias=alias)
    tags = tuple(
        Tag(name, gate, _join((f"{repo}:",), tag), alias=alias) for name, gate, repo in repos
    )
    if not tags:
        return (local,)
    if all(t.gate for t in tags):  # a local name while every registry is gated off
        return (*tags, replace(local, fallback=True))
    return tags


def _format_tag(fmt: str, fields: dict[str, Text]) -> Text:
    out: Text = ()
    for literal, field, _, _ in Formatter().parse(fmt):
        out = _join(out, (literal,))
        if field is not None:
            out = _join(out, fields[field])
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
