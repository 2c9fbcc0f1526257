"""`bakegen docs`: a Markdown table of every published image, grouped by package, with its
tags as they resolve with the current environment; `--write FILE` keeps a README's table true
by replacing the text between its markers."""

from __future__ import annotations

from collections.abc import Mapping

from bakegen.commands.list import tag_strings
from bakegen.errors import UsageError
from bakegen.plan.records import Plan

BEGIN = "<!-- bakegen:tags -->"
END = "<!-- /bakegen:tags -->"


def table(plan: Plan, env: Mapping[str, str]) -> str:
    values = plan.values(env)
    out: list[str] = []
    packages = dict.fromkeys(i.package for i in plan.images if i.push)
    for package in packages:
        out += [
            f"### {package}",
            "",
            "| release type | distro | Python | CUDA | platforms | tags |",
            "|---|---|---|---|---|---|",
        ]
        for image in (i for i in plan.images if i.push and i.package == package):
            tags = "<br>".join(f"`{t}`" for t in tag_strings(image, values))
            out.append(
                f"| {image.release_type} | {image.distro} {image.distro_version} | "
                f"{image.python} | {image.cuda.version if image.cuda else ''} | "
                f"{', '.join(image.platforms)} | {tags} |"
            )
        out.append("")
    return "\n".join(out)


def replace_between_markers(text: str, table_text: str, where: str) -> str:
    """`text` with the part between BEGIN and END replaced by `table_text`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise UsageError(f"{where}: no {BEGIN} ... {END} markers to write the table between")
    return text[: start + len(BEGIN)] + "\n\n" + table_text.rstrip("\n") + "\n\n" + text[end:]
