"""`bakegen docs`: a Markdown table of every published image, grouped by package, with its
tags as they resolve with the current environment; `--write FILE` keeps a README's table true
by replacing the text between its markers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bakegen.commands.list import tag_strings
from bakegen.errors import UsageError
from bakegen.output import Streams, markdown_code, markdown_text
from bakegen.pipeline import plan_workspace
from bakegen.plan.records import Plan
from bakegen.write import replace_file

BEGIN = "<!-- bakegen:tags -->"
END = "<!-- /bakegen:tags -->"


def run(io: Streams, ws: Path, manifest: Path | None, *, write: Path | None = None) -> int:
    """The table on standard output, or (`write`) between the markers of that file."""
    text = table(plan_workspace(ws, manifest), os.environ)
    if write is None:
        io.write(text)
        return 0
    try:
        current = write.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{write}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    updated = replace_between_markers(current, text, str(write))
    if updated == current:
        io.err.print(f"{write}: image table up to date")
    else:
        replace_file(write, updated)
        io.err.print(f"{write}: image table updated")
    return 0


def table(plan: Plan, env: Mapping[str, str]) -> str:
    values = plan.values(env)
    out: list[str] = []
    packages = dict.fromkeys(i.package for i in plan.images if i.push)
    for package in packages:
        out += [
            f"### {markdown_text(package)}",
            "",
            "| release type | distro | Python | CUDA | platforms | tags |",
            "|---|---|---|---|---|---|",
        ]
        for image in (i for i in plan.images if i.push and i.package == package):
            tags = "<br>".join(markdown_code(t) for t in tag_strings(image, values))
            cells = (
                image.release_type,
                f"{image.distro} {image.distro_version}",
                image.python,
                image.cuda.version if image.cuda else "",
                ", ".join(image.platforms),
            )
            out.append("| " + " | ".join(markdown_text(c) for c in cells) + f" | {tags} |")
        out.append("")
    return "\n".join(out)


def replace_between_markers(text: str, table_text: str, where: str) -> str:
    """`text` with the part between BEGIN and END replaced by `table_text`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise UsageError(f"{where}: no {BEGIN} ... {END} markers to write the table between")
    return text[: start + len(BEGIN)] + "\n\n" + table_text.rstrip("\n") + "\n\n" + text[end:]
