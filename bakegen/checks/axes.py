"""Check stage: the rules on what varies per image beyond the matrix itself: tag variables,
build arguments by axis value (`args`) and CUDA installed by templates (`cuda_install`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from string import Formatter

from bakegen.errors import KeyPath, Problem
from bakegen.manifest.cuda_install import TEMPLATE
from bakegen.manifest.image_keys import Where
from bakegen.manifest.image_tags import OUTPUT_FIELD
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import Var
from bakegen.plan.args import image_args, rules_of
from bakegen.plan.build import _matches
from bakegen.plan.records import Image, Plan, Tag
from bakegen.plan.tags import ARGS_FIELD, TAG_FIELDS

# Bake variables the bake file declares itself, whatever the manifest says.
OWN_VARIABLES = ("VERSION", "REVISION", "SOURCE", "CACHE_SUFFIX", "BAKEGEN")


def axis_manifest_problems(m: Manifest) -> Iterator[Problem]:
    yield from _tag_variable_problems(m)
    for release in m.releases:
        if release.cuda_install == TEMPLATE and release.cuda_prefix_url:
            yield m.problem(
                (*release.path, "cuda_prefix_url"),
                "names a repository of NVIDIA's packages, which `cuda_install: template` does "
                "not read; remove it, or install from it with `cuda_install: repository`",
            )


def _named_variables(m: Manifest) -> dict[str, str]:
    """The variables the manifest names outside `tag_variables`, each with what names it."""
    named: dict[str, str] = {}
    for registry in m.registries:
        for key in ("only_if", "user", "pwd"):
            name = getattr(registry, key)
            if name:
                named.setdefault(name, f"repository {registry.name}'s `{key}`")
    for secret in m.secrets:
        if secret.env:
            named.setdefault(secret.env, f"secret {secret.id}'s `env`")
    return named


def _tag_variable_problems(m: Manifest) -> Iterator[Problem]:
    named = _named_variables(m)
    for variable in m.tag_variables:
        name, upper = variable.name, variable.variable
        if name in (*TAG_FIELDS, ARGS_FIELD.rstrip("."), OUTPUT_FIELD):
            yield m.problem(
                variable.path, f"'{name}' is a tag field bakegen fills; choose another name"
            )
        elif upper in OWN_VARIABLES:
            yield m.problem(
                variable.path,
                f"its bake variable {upper} is one bakegen declares itself; choose another name",
            )
        elif upper.startswith("BAKE_"):
            yield m.problem(
                variable.path,
                f"its bake variable {upper} starts with BAKE_, as bake's own do; choose another name",
            )
        elif upper in named:
            yield m.problem(
                variable.path,
                f"its bake variable {upper} is also {named[upper]}; choose another name",
            )


def image_matcher(m: Manifest, image: Image) -> Callable[[Where], bool]:
    """Whether a `where` names `image`."""
    release = next(
        r for r in m.releases if (r.distro, r.version) == (image.distro, image.distro_version)
    )
    return lambda where: _matches(
        where, m.packages[image.package], image.release_type, release, image.python, image.cuda
    )


def _tag_formats(m: Manifest) -> list[tuple[KeyPath, str | None]]:
    """Every tag format the manifest writes, with where: release types' `tag`, aliases, and
    the entries of `tags_from_image`."""
    owners = [*(t.image_tags for t in m.release_types.values())]
    owners += [p.image_tags for p in m.packages.values()]
    return [
        *(
            (path, fmt)
            for rt in m.release_types.values()
            for path, fmt in ((rt.path, rt.tag), *((a.path, a.tag) for a in rt.aliases))
        ),
        *((e.path, e.tag) for keys in owners for e in keys.from_image or ()),
    ]


def arg_field_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """Every `{args.NAME}` of a tag format an image gets has NAME among its build arguments."""
    fields = {
        (*path, "tag"): [
            f for _, f, _, _ in Formatter().parse(fmt) if f and f.startswith(ARGS_FIELD)
        ]
        for path, fmt in _tag_formats(m)
        if fmt and ARGS_FIELD in fmt
    }
    missing: dict[tuple[KeyPath, str], list[str]] = {}
    for image in plan.images if fields else ():
        rt = m.release_types[image.release_type]
        formats = [(*rt.path, "tag")] if image.push else []
        formats += [
            (*a.path, "tag") for a in rt.aliases if any(t.alias == a.path for t in image.tags)
        ]
        formats += [(*t.path, "tag") for t in image.image_tags]
        own = {name for name, _ in image.args}
        for path in formats:
            for field in fields.get(path, ()):
                if field[len(ARGS_FIELD) :] not in own:
                    missing.setdefault((path, field), []).append(image.target)
    for (path, field), targets in missing.items():
        images = (
            f"image {targets[0]} gets"
            if len(targets) == 1
            else (f"images {targets[0]} and {len(targets) - 1} more get")
        )
        yield m.problem(
            path,
            f"{{{field}}}: {images} no build argument {field[len(ARGS_FIELD) :]} from `args`; "
            "give it to them (a `where` naming them) or leave the field out of this format",
        )


def arg_problems(m: Manifest, plan: Plan) -> Iterator[Problem]:
    """An `args` entry's `where` names some image (of its package); a build argument is set by
    `args` or by `bake: args:` of an image, not both."""
    if not m.args and not any(p.args for p in m.packages.values()):
        return
    named: set[KeyPath] = set()
    said: set[tuple[KeyPath, str]] = set()
    for image in plan.images:
        matches = image_matcher(m, image)
        named.update(r.path for r in rules_of(m, image.package) if matches(r.where))
        given = {name: path for name, _, path in image_args(m, image.package, matches)}
        for setting in image.bake:
            key = (setting.path, setting.key or "")
            if setting.attribute == "args" and setting.key in given and key not in said:
                said.add(key)
                yield m.problem(
                    setting.path,
                    f"build argument {setting.key} of image {image.target} is also set by "
                    f"`args`{_at(m, given[setting.key])}; set it in one place",
                )
    rules = [(r, "") for r in m.args]
    rules += [(r, f" of package {p.name}") for p in m.packages.values() for r in p.args]
    for rule, whose in rules:
        if rule.narrowed and rule.path not in named:
            yield m.problem(
                (*rule.path, "where"),
                f"names no image{whose}; check its values (every key given must match)",
            )


def _at(m: Manifest, path: KeyPath) -> str:
    where = m.where(path)
    return f" (at {where})" if where else ""


def tag_sample_note(m: Manifest, tag: Tag) -> str:
    """How the tag checks read a tag holding bake variables: VERSION at its default, each tag
    variable at its sample value."""
    names = {p.name for p in tag.text if isinstance(p, Var)}
    said = ["VERSION at its default"] if "VERSION" in names else []
    said += [f"{v.variable}={v.sample}" for v in m.tag_variables if v.variable in names]
    return f" (with {', '.join(said)})" if said else ""
