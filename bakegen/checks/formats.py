"""Formats: a tag format or `cuda_requires` names only the fields the plan fills in
(`TAG_FIELDS`, `CUDA_FIELDS`: the plan's own tables), checked where the manifest writes them."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from string import Formatter

from bakegen.errors import KeyPath, Problem
from bakegen.manifest.records import Manifest
from bakegen.plan.tags import TAG_TEXT


def _format_problems(
    m: Manifest, path: KeyPath, fmt: str, fields: Collection[str], *, tag: bool
) -> Iterator[Problem]:
    """A format with `{field}`s: only known fields, no conversions; a tag's text fits a tag."""
    what = "tag format" if tag else "format"
    try:
        parsed = list(Formatter().parse(fmt))
    except ValueError as exc:
        yield m.problem(path, f"bad {what}: {exc}")
        return
    for literal, field, spec, conv in parsed:
        if tag and not TAG_TEXT.match(literal):
            yield m.problem(path, f"'{literal}' has characters not allowed in a tag")
        if field is not None and field not in fields:
            known = ", ".join(sorted(fields))
            yield m.problem(path, f"unknown field {{{field}}} in {what}; known: {known}")
        elif field is not None and (spec or conv):
            shown = field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
            yield m.problem(
                path,
                f"{{{shown}}}: a {'tag ' if tag else ''}field takes no conversion or format "
                f"spec; write {{{field}}}",
            )
