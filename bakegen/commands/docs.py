"""`bakegen docs`: a Markdown table of every published image, grouped by package, with its
tags as they resolve with the current environment (and, when the manifest signs images, how
each is signed); `--write FILE` keeps a README's table true
by replacing the text between its markers, each a line of its own (a marker quoted in a
sentence is text), in one rename (`write.replace_file`), the file's other bytes as they were
(its line endings included)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bakegen.commands.list import READ_FROM_IMAGE, image_tag_strings, tag_strings
from bakegen.errors import UsageError, one_line
from bakegen.manifest.records import Manifest
from bakegen.manifest.trust import image_signing
from bakegen.output import Streams, markdown_code, markdown_text
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.plan.records import Image, Plan
from bakegen.sources import Sources
from bakegen.write import replace_file

BEGIN = "<!-- bakegen:tags -->"
END = "<!-- /bakegen:tags -->"


def run(io: Streams, ws: Path, manifest: Path | None, *, write: Path | None = None) -> int:
    """The table on standard output, or (`write`) between the markers of that file."""
    typed = read_manifest(ws, manifest)
    plan = plan_manifest(typed)
    text = table(plan, os.environ, signed=signing_marks(typed, plan))
    if write is None:
        io.write(text)
        return 0
    current = _read(write)
    updated = replace_between_markers(current, text, str(write))
    if updated == current:
        io.err.print(one_line(f"{write}: image table up to date"))
    else:
        replace_file(write, updated)
        io.err.print(one_line(f"{write}: image table updated"))
    return 0


def _read(path: Path) -> str:
    """The file's text exactly as it is: no newline translated, a byte-order mark kept."""
    try:
        return Sources().read(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        said = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"{path}: cannot read: {said}") from None


def signing_marks(m: Manifest, plan: Plan) -> dict[str, str]:
    """How each pushed image is signed, by target (`cosign`, or empty: not signed); empty when
    the manifest signs nothing, and the table has no signed column."""
    if m.signing is None:
        return {}
    signings = {i.target: image_signing(m, i.package) for i in plan.images if i.push}
    return {t: s.tool if s else "" for t, s in signings.items()}


def table(plan: Plan, env: Mapping[str, str], signed: Mapping[str, str] | None = None) -> str:
    """The table; `signed` (target -> how it is signed) adds a signed column."""
    values = plan.values(env)
    out: list[str] = []
    packages = dict.fromkeys(i.package for i in plan.images if i.push)
    heads = ["release type", "distro", "Python", "CUDA", "platforms", "built FROM", "tags"]
    heads += ["signed"] if signed else []
    for package in packages:
        out += [
            f"### {markdown_text(package)}",
            "",
            "| " + " | ".join(heads) + " |",
            "|" + "---|" * len(heads),
        ]
        for image in (i for i in plan.images if i.push and i.package == package):
            tags = "<br>".join(_tag_lines(image, values))
            cells = (
                image.release_type,
                f"{image.distro} {image.distro_version}",
                image.python,
                image.cuda.version if image.cuda else "",
                ", ".join(image.platforms),
            )
            row = " | ".join(markdown_text(c) for c in cells)
            line = f"| {row} | {markdown_code(built_from(plan, image, values))} | {tags} |"
            out.append(line + (f" {markdown_text(signed[image.target])} |" if signed else ""))
        out.append("")
    return "\n".join(out)


def _tag_lines(image: Image, values: Mapping[str, str]) -> list[str]:
    """An image's tags, those read from the image and its platform tags, each a line of a cell."""
    lines = [markdown_code(t) for t in tag_strings(image, values)]
    lines += [f"{markdown_code(t)} {READ_FROM_IMAGE}" for t in image_tag_strings(image, values)]
    if image.platform_tags:
        each = (f"{markdown_code(t)} ({markdown_text(p)})" for p, t in image.platform_tags)
        lines.append(f"per platform: {', '.join(each)}")
    return lines


def built_from(plan: Plan, image: Image, values: Mapping[str, str]) -> str:
    """What users would pull to get `image`'s parent: its nearest pushed ancestor's first tag,
    or, when none is pushed, the base image its chain starts FROM."""
    current = image
    while current.parent:
        current = plan.image(current.parent)
        tags = tag_strings(current, values) if current.push else []
        if tags:
            return tags[0]
    return next(d.base_image for d in plan.dockerfiles if d.path == current.dockerfile)


def replace_between_markers(text: str, table_text: str, where: str) -> str:
    """`text` with the lines between the BEGIN and END lines replaced by `table_text`, written
    with the BEGIN line's line ending."""
    lines = text.split("\n")
    begin, end = _marker_line(lines, BEGIN, where), _marker_line(lines, END, where)
    if end < begin:
        raise UsageError(f"{where}:{end + 1}: {END} comes before {BEGIN}; put it after")
    newline = "\r\n" if lines[begin].endswith("\r") else "\n"
    body = newline.join(table_text.rstrip("\n").split("\n"))
    head, tail = "\n".join(lines[: begin + 1]), "\n".join(lines[end:])
    return f"{head}\n{newline}{body}{newline}{newline}{tail}"


def _marker_line(lines: list[str], marker: str, where: str) -> int:
    """The index of the one line that is `marker` (spaces around it aside)."""
    found = [index for index, line in enumerate(lines) if line.strip() == marker]
    if not found:
        raise UsageError(
            f"{where}: no {BEGIN} ... {END} markers to write the table between "
            "(each on a line of its own)"
        )
    if len(found) > 1:
        at = ", ".join(str(index + 1) for index in found)
        raise UsageError(f"{where}: {marker} is on more than one line ({at}); keep one")
    return found[0]
