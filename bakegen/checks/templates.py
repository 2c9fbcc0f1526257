"""Checks on templates' source: a comparison of `package`, `release_type` or `distro` with a
name the manifest does not have (`{% if package == "torch-trian" %}`) is a typo that silently
never matches."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path

import jinja2
from jinja2 import nodes

from bakegen.checks.packages import used_release_types
from bakegen.emit.jinja import CompiledTemplates, strict_environment
from bakegen.errors import KeyPath, Location, Problem, did_you_mean
from bakegen.layout import image_template, is_template_name, template_path
from bakegen.manifest.records import Manifest
from bakegen.sources import A_FILE, FOLDER, OTHER, Sources


def template_problems(m: Manifest, workspace: Path, sources: Sources) -> list[Problem]:
    """The folders and files of the templates the matrix needs (by the path emit reads them),
    looked at through `sources`."""
    problems: list[Problem] = []
    used = used_release_types(m, with_parents=True)
    for release in m.releases:
        kinds = used.get(release)
        if not kinds or not release.templates_dir:
            continue
        where: KeyPath = (*release.path, "templates_dir")
        tdir = release.templates_dir
        if sources.kind(workspace / tdir) != FOLDER:
            problems.append(m.problem(where, f"folder '{tdir}' not found in the workspace"))
            continue
        for kind in sorted(kinds):
            template = template_path(tdir, kind)
            trouble = file_trouble(workspace / template, sources)
            if trouble:
                problems.append(m.problem(where, f"template '{template}' {trouble}"))
    return problems + _package_problems(m, workspace, sources)


def _package_problems(m: Manifest, workspace: Path, sources: Sources) -> list[Problem]:
    """Each package's own template (file, or folder's file per release type it builds) and
    build context folder, once each."""
    problems: dict[tuple[KeyPath, str], Problem] = {}
    for package in m.packages.values():
        if package.context is not None and sources.kind(workspace / package.context) != FOLDER:
            text = f"context folder '{package.context}' not found in the workspace"
            problems.setdefault((package.context_from, text), m.problem(package.context_from, text))
        if package.template is None:
            continue
        own = package.template
        if not is_template_name(own) and sources.kind(workspace / own) == A_FILE:
            text = (
                f"'{own}' is a file, and a template's name ends in .j2: rename it, or name a "
                "folder of templates, one per release type"
            )
            problems.setdefault(
                (package.template_from, text), m.problem(package.template_from, text)
            )
            continue
        for build in package.builds:
            template, _ = image_template(package.template, "", build.release_type)
            trouble = file_trouble(workspace / template, sources)
            if trouble:
                text = f"template '{template}' {trouble}"
                problems.setdefault(
                    (package.template_from, text), m.problem(package.template_from, text)
                )
    return list(problems.values())


def file_trouble(path: Path, sources: Sources) -> str | None:
    """Why `path` cannot be read as a template file, or None (never opens it)."""
    try:
        kind = sources.kind(path)
    except OSError:
        kind = None
    if kind is None:
        return "not found"
    if kind == FOLDER:
        return "is a folder, not a template file"
    return "is not a regular file" if kind == OTHER else None


# Template names whose values are names from the manifest, and what they name.
NAMED = {
    "package": "package",
    "release_type": "release type",
    "release": "release type",
    "distro": "distro",
}


def comparison_problems(
    env: jinja2.Environment,
    template: str,
    known: Mapping[str, set[str]],
    where: KeyPath,
    workspace: Path,
) -> list[Problem]:
    """Comparisons in `template` (and the templates it includes) with unknown names."""
    problems: list[Problem] = []
    seen: set[str] = set()
    pending = [template]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            assert env.loader is not None
            source, filename, _ = env.loader.get_source(env, name)
            compiled = env.bytecode_cache
            includes, comparisons = (
                compiled.outline(source, _outline)
                if isinstance(compiled, CompiledTemplates)
                else _outline(source)
            )
        except Exception:  # reported where the template is rendered
            continue
        pending.extend(includes)
        for lineno, variable, value in comparisons:
            choices = sorted(known.get(NAMED[variable], set()))
            if value in choices:
                continue
            hint = did_you_mean(value, choices)
            shown = _relative(filename or name, workspace)
            problems.append(
                Problem(
                    Location(shown, lineno, 1),
                    where,
                    f"compares {variable} with '{value}', which is no {NAMED[variable]} of the "
                    f"manifest{hint}",
                )
            )
    return problems


Outline = tuple[list[str], list[tuple[int, str, str]]]


@functools.cache
def _parser() -> jinja2.Environment:
    return strict_environment()


@functools.lru_cache(maxsize=256)
def _outline(source: str) -> Outline:
    """The templates `source` includes by name, and its comparisons of manifest names (line,
    name, value); each text parsed once a process (an include shared by many templates, once)."""
    tree = _parser().parse(source)
    return (
        [
            node.template.value
            for node in tree.find_all(nodes.Include)
            if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str)
        ],
        list(_comparisons(tree)),
    )


def _comparisons(tree: nodes.Template) -> Iterator[tuple[int, str, str]]:
    for compare in tree.find_all(nodes.Compare):
        sides = [compare.expr, *(op.expr for op in compare.ops)]
        names = [s.name for s in sides if isinstance(s, nodes.Name) and s.name in NAMED]
        if not names:
            continue
        for side in sides:
            for value in _constants(side):
                yield compare.lineno, names[0], value


def _constants(node: nodes.Node) -> Iterator[str]:
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (nodes.List, nodes.Tuple)):
        for item in node.items:
            yield from _constants(item)


def _relative(filename: str, workspace: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return filename
