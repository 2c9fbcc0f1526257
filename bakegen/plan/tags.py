"""Tags: a tag format expanded for one image."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from string import Formatter

from bakegen.errors import KeyPath
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import Pairs, Text, Var
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


# The prefix of a tag field naming one of the image's build arguments: `{args.NAME}`.
ARGS_FIELD = "args."


def manifest_tag_fields(m: Manifest) -> set[str]:
    """The tag fields beyond TAG_FIELDS the manifest declares: its tag variables, and
    `args.NAME` for every build argument its `args` gives."""
    rules = (*m.args, *(r for p in m.packages.values() for r in p.args))
    return {v.name for v in m.tag_variables} | {
        ARGS_FIELD + name for rule in rules for name, _ in rule.values
    }


def tag_text(
    m: Manifest, cell: _Cell, python: str, fmt: str, args: Pairs, own: Mapping[str, Text]
) -> tuple[Text, tuple[str, ...]]:
    """The text of format `fmt` for one image (with build arguments `args`, and the fields
    `own` gives), a variant's `tag_prefix` and `tag_suffix` around it; with the tag variables
    it holds (their bake variables)."""
    tagging = cell.package.tagging
    extra: dict[str, Text] = {v.name: (Var(v.variable),) for v in m.tag_variables}
    extra.update({ARGS_FIELD + name: (value,) for name, value in args})
    extra.update(own)
    tag = _format_tag(fmt, cell, python, extra)
    tag = _join(_join((tagging.prefix,), tag), (tagging.suffix,))
    variables = {v.variable for v in m.tag_variables}
    needs = tuple(dict.fromkeys(p.name for p in tag if isinstance(p, Var) and p.name in variables))
    return tag, needs


def _tags(
    m: Manifest, cell: _Cell, python: str, fmt: str, alias: KeyPath | None, args: Pairs = ()
) -> tuple[Tag, ...]:
    """The tags of format `fmt` for one image (with build arguments `args`): one per registry
    naming the package, or its local name (also given, as a fallback, while every registry is
    gated off); a variant's `tag_prefix` and `tag_suffix` around each."""
    tag, needs = tag_text(m, cell, python, fmt, args, {})
    repos = [
        (r.name, r.only_if, repo)
        for r in m.registries
        if (repo := r.repository(cell.package.repository_key)) is not None
    ]
    local = Tag(
        "local", None, _join((f"{cell.package.repository_key}:",), tag), alias=alias, needs=needs
    )
    tags = tuple(
        Tag(name, gate, _join((f"{repo}:",), tag), alias=alias, needs=needs)
        for name, gate, repo in repos
    )
    if not tags:
        return (local,)
    if all(t.gate for t in tags):  # a local name while every registry is gated off
        return (*tags, replace(local, fallback=True))
    return tags


def _format_tag(fmt: str, cell: _Cell, python: str, extra: Mapping[str, Text]) -> Text:
    """A tag format's text for one image; a field not in TAG_FIELDS is one of `extra` (a
    build argument the image lacks is empty: the plan's checks refuse it)."""
    out: Text = ()
    for literal, field, _, _ in Formatter().parse(fmt):
        out = _join(out, (literal,))
        if field in TAG_FIELDS:
            out = _join(out, TAG_FIELDS[field](cell, python))
        elif field is not None:
            out = _join(out, extra.get(field, ()))
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
