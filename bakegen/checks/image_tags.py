"""Check stage: `tags_from_image` and `platform_tags`, where the manifest writes them (their
formats) and over the plan (the platforms and images they name, the tags they make)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from string import Formatter

from bakegen.checks.axes import _at
from bakegen.checks.formats import _format_problems
from bakegen.errors import KeyPath, Problem
from bakegen.manifest.image_tags import OUTPUT_FIELD, TAG_FIELD, ImageTagKeys
from bakegen.manifest.records import Manifest
from bakegen.manifest.references import tag_problem
from bakegen.manifest.values import Text, resolve
from bakegen.plan.image_tags import OUTPUT, chosen_keys, platform_text
from bakegen.plan.records import Plan

# What `{output}` stands for when the checks read a tag from the image.
SAMPLE_OUTPUT = "0"


def image_tag_key_problems(m: Manifest, fields: Collection[str]) -> Iterator[Problem]:
    """The keys as written: tag formats (the fields of `tag` and `{output}`), templates
    (`{tag}` and text a tag can hold), each platform once; none on a type not pushed."""
    for rt in m.release_types.values():
        keys = rt.image_tags
        if not rt.push:
            for name, given in (
                ("tags_from_image", keys.from_image),
                ("platform_tags", keys.platform),
            ):
                if given:
                    yield m.problem(
                        (*rt.path, name),
                        f"a release type that is not pushed has no tags: its `{name}` would "
                        "never be used; remove it",
                    )
        yield from _key_problems(m, keys, fields)
    said: set[KeyPath] = set()  # a variant's keys may be its package's
    for package in m.packages.values():
        yield from (p for p in _key_problems(m, package.image_tags, fields) if p.path not in said)
        said.update(_paths(package.image_tags))


def _paths(keys: ImageTagKeys) -> set[KeyPath]:
    entries = [*(e.path for e in keys.from_image or ()), *(t.path for t in keys.platform or ())]
    return {*entries, *((*p, "tag") for p in entries)}


def _key_problems(m: Manifest, keys: ImageTagKeys, fields: Collection[str]) -> Iterator[Problem]:
    for entry in keys.from_image or ():
        path = (*entry.path, "tag")
        found = list(_format_problems(m, path, entry.tag, {*fields, OUTPUT_FIELD}, tag=True))
        yield from found
        if not found and OUTPUT_FIELD not in _fields(entry.tag):
            yield m.problem(
                path,
                f"'{entry.tag}' has no {OUTPUT}: a tag read from the image holds what `run` "
                f"prints; write {OUTPUT} where it goes, or make it an alias",
            )
    templates: dict[str, str] = {}
    written: dict[str, KeyPath] = {}
    for tag in keys.platform or ():
        found = list(_format_problems(m, tag.path, tag.template, {TAG_FIELD}, tag=True))
        yield from found
        if found:
            continue
        if "{" + TAG_FIELD + "}" not in tag.template:
            yield m.problem(
                tag.path, f"'{tag.template}' has no {{tag}}: write it where the image's tag goes"
            )
        elif tag.template == "{" + TAG_FIELD + "}":
            yield m.problem(
                tag.path, "a platform tag that is the tag itself: add text around {tag}"
            )
        elif tag.platform in written:
            yield m.problem(
                tag.path,
                f"{tag.platform} is written twice{_at(m, written[tag.platform])}; keep one",
            )
        elif tag.template in templates:
            yield m.problem(
                tag.path,
                f"{tag.platform} and {templates[tag.template]} would get the same tags; "
                "give each platform a template of its own",
            )
        templates.setdefault(tag.template, tag.platform)
        written.setdefault(tag.platform, tag.path)


def _fields(fmt: str) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(fmt) if f is not None}


def image_tag_plan_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """A platform of `platform_tags` is built by some image it is for; an entry's `where`
    names some image; the tags read from the image make tags (with `{output}` a sample)."""
    built: dict[KeyPath, tuple[str, set[str]]] = {}
    named: dict[KeyPath, bool] = {}
    for image in plan.images:
        if not image.push:
            continue
        keys = chosen_keys(m, image.package, image.release_type)
        for tag in keys.platform or ():
            built.setdefault(tag.path, (tag.platform, set()))[1].update(image.platforms)
        for entry in keys.from_image or ():
            ok = named.get(entry.path, False)
            named[entry.path] = ok or any(t.path == entry.path for t in image.image_tags)
    for path, (platform, platforms) in built.items():
        if platform not in platforms:
            yield m.problem(
                path,
                f"no image it is for is built for {platform} (they are for "
                f"{', '.join(sorted(platforms))}); remove it, or build the images for it",
            )
    for path, ok in named.items():
        if not ok:
            yield m.problem(
                (*path, "where"),
                "names no image it is for; check its values (every key given must match)",
            )
    yield from _sample_problems(m, plan)


def _sample_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    values = plan.values({v.variable: v.sample for v in m.tag_variables})
    said: set[KeyPath] = set()
    for image in plan.images:
        for entry in image.image_tags:
            for text in (
                entry.text,
                *(platform_text(t, entry.text) for _, t in image.platform_tags),
            ):
                tag = _sample(text, values)
                why = tag_problem(f"x:{tag}")
                if why and entry.path not in said:
                    said.add(entry.path)
                    yield m.problem(
                        (*entry.path, "tag"),
                        f"image {image.target} gets the tag {tag!r} (with {OUTPUT} as "
                        f"{SAMPLE_OUTPUT}), which is not a valid tag: {why}",
                    )


def _sample(text: Text, values: Mapping[str, str]) -> str:
    return resolve(text, values).replace(OUTPUT, SAMPLE_OUTPUT)
