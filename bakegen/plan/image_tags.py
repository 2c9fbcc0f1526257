"""The tags of an image that bake does not give: those read from the built image
(`tags_from_image`) and the per-platform ones (`platform_tags`), published by the workflow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from string import Formatter

from bakegen.manifest.image_keys import Where
from bakegen.manifest.image_tags import OUTPUT_FIELD, ImageTagKeys
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import Pairs, Text
from bakegen.plan.cells import _Cell
from bakegen.plan.records import ImageTag, Tag
from bakegen.plan.tags import _join, tag_text

# `{output}` as the text of a tag read from the image holds it until the image is built.
OUTPUT = "{" + OUTPUT_FIELD + "}"


def chosen_keys(m: Manifest, package: str, release_type: str) -> ImageTagKeys:
    """The keys the images of `package` and `release_type` get: the package's (a variant's
    own over its package's), each over the release type's."""
    return m.packages[package].image_tags.over(m.release_types[release_type].image_tags)


def image_tags(
    m: Manifest,
    cell: _Cell,
    python: str,
    args: Pairs,
    matches: Callable[[Where], bool],
    platforms: tuple[str, ...],
) -> tuple[tuple[ImageTag, ...], tuple[tuple[str, str], ...]]:
    """One pushed image's tags read from the image (the entries whose `where` names it) and
    its platform tag templates (of the platforms it is built for), in the manifest's order."""
    if not m.release_types[cell.release_type].push:
        return (), ()
    keys = chosen_keys(m, cell.package.name, cell.release_type)
    own = {OUTPUT_FIELD: (OUTPUT,)}
    found = []
    for entry in keys.from_image or ():
        if matches(entry.where):
            text, needs = tag_text(m, cell, python, entry.tag, args, own)
            found.append(ImageTag(text, entry.run, entry.path, needs))
    templates: dict[str, str] = {}
    for tag in keys.platform or ():
        if tag.platform in platforms:
            templates.setdefault(tag.platform, tag.template)
    return tuple(found), tuple(templates.items())


def platform_text(template: str, tag: Text) -> Text:
    """A platform tag template with the text of one tag (without its repository) for `{tag}`."""
    out: Text = ()
    for literal, field, _, _ in Formatter().parse(template):
        out = _join(out, (literal,))
        if field is not None:
            out = _join(out, tag)
    return out


def split_repository(tag: Tag) -> tuple[str, Text]:
    """A tag's repository and its text after the ':' (a tag's own text holds no ':')."""
    first = tag.text[0]
    assert isinstance(first, str)
    repository, _, rest = first.rpartition(":")
    return repository, _join((rest,), tag.text[1:])


def platform_variants(tag: Tag, templates: tuple[tuple[str, str], ...]) -> tuple[Tag, ...]:
    """`tag` once per platform tag template, as the tag its platform's image gets."""
    repository, text = split_repository(tag)
    return tuple(
        replace(tag, text=_join((f"{repository}:",), platform_text(template, text)))
        for _, template in templates
    )
