"""Checks on a rendered Dockerfile's text: the mistakes a template can make that bake finds late.

- after parser directives and comments, the first instruction is FROM (or ARG before it);
- there is at least one FROM;
- an image built FROM a parent (bake gives it the context `base`) has a FROM that is `base` or a
  stage descending from it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bakegen.emit.jinja import shown_file
from bakegen.errors import Location, Problem, did_you_mean
from bakegen.layout import PARENT_CONTEXT
from bakegen.plan.records import Dockerfile
from bakegen.sources import Sources

_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


@dataclass(frozen=True)
class Finding:
    """One problem in a rendered Dockerfile, with the offending instruction's text when known."""

    message: str
    instruction: str | None = None
    needle: str | None = None  # text on the template line to point at, when the line differs


@dataclass(frozen=True)
class Instruction:
    keyword: str
    words: tuple[str, ...]
    text: str


@functools.lru_cache(maxsize=8192)
def instructions(text: str) -> tuple[Instruction, ...]:
    """The instructions of `text`: directives, comments, blank lines and heredoc bodies skipped,
    continued lines joined (read once per text: a render's checks read each Dockerfile twice)."""
    lines = text.split("\n")
    escape = "\\"
    index = 0
    while index < len(lines):  # parser directives: only at the very top, before anything else
        match = _DIRECTIVE.match(lines[index].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            escape = match.group(2)
        index += 1
    out: list[Instruction] = []
    current = ""
    heredocs: list[str] = []
    for line in lines[index:]:
        if heredocs:
            if line.lstrip("\t") == heredocs[0]:
                heredocs.pop(0)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        body = line.rstrip()
        if body.endswith(escape):
            current += body[: -len(escape)] + " "
            continue
        current += body
        words = current.split()
        out.append(Instruction(words[0].upper(), tuple(words[1:]), " ".join(words)))
        heredocs = (
            [m.group(2) for m in _HEREDOC.finditer(current)]
            if words[0].upper()
            in (
                "RUN",
                "COPY",
                "ADD",
            )
            else []
        )
        current = ""
    if current.strip():
        words = current.split()
        out.append(Instruction(words[0].upper(), tuple(words[1:]), " ".join(words)))
    return tuple(out)


def secret_mounts(found: Sequence[Instruction]) -> Iterator[tuple[str, Instruction]]:
    """The ids of the secrets RUN instructions mount (`--mount=type=secret,id=X`; without an id,
    the target's file name, as BuildKit reads it)."""
    for instruction in found:
        if instruction.keyword != "RUN":
            continue
        for word in instruction.words:
            if not word.startswith("--mount="):
                if not word.startswith("--"):
                    break
                continue
            fields = dict(
                part.partition("=")[::2] for part in word.removeprefix("--mount=").split(",")
            )
            if fields.get("type") == "secret":
                target = (
                    fields.get("target") or fields.get("dst") or fields.get("destination") or ""
                )
                yield fields.get("id") or target.rsplit("/", 1)[-1], instruction


def check(text: str, from_parent: bool, secrets: tuple[str, ...] = ()) -> list[Finding]:
    """What is wrong with the rendered Dockerfile `text`; `from_parent`: bake gives it `base`."""
    found = instructions(text)
    if not found:
        return [Finding("renders no Dockerfile instruction; a Dockerfile starts with FROM")]
    first = found[0]
    findings: list[Finding] = []
    if first.keyword not in ("FROM", "ARG"):
        findings.append(
            Finding(
                f"the first instruction is {first.keyword}; a Dockerfile starts with FROM "
                "(only ARG may come before it)",
                first.text,
            )
        )
    for sid, instruction in secret_mounts(found):
        if sid not in secrets:
            hint = did_you_mean(sid, secrets)
            findings.append(
                Finding(
                    f"mounts the secret '{sid}', which the manifest does not declare under "
                    f"`secrets`{hint}",
                    instruction.text,
                    f"id={sid}",
                )
            )
    froms = [i for i in found if i.keyword == "FROM"]
    if not froms:
        findings.append(Finding("renders no FROM instruction; a Dockerfile needs one"))
        return findings
    if from_parent and not _uses_parent(froms):
        findings.append(
            Finding(
                f"this image is built FROM its parent, the bake context '{PARENT_CONTEXT}', "
                f"but no FROM uses '{PARENT_CONTEXT}' or a stage built from it",
                froms[0].text,
            )
        )
    return findings


def _uses_parent(froms: list[Instruction]) -> bool:
    descends: set[str] = {PARENT_CONTEXT}
    used = False
    for instruction in froms:
        words = [w for w in instruction.words if not w.startswith("--")]
        if not words:
            continue
        image = words[0].lower()
        if "$" in image:  # a build argument: what it names is known only at build time
            return True
        if image in descends:
            used = True
            if len(words) >= 3 and words[1].lower() == "as":
                descends.add(words[2].lower())
    return used


def problems(df: Dockerfile, text: str, workspace: Path, sources: Sources) -> list[Problem]:
    """`check` of a rendered Dockerfile, as problems at its template (and line, when known)."""
    found = check(text, df.from_parent, df.secrets)
    if not found:
        return []
    where = ("releases", df.distro, df.distro_version, "templates_dir")
    source = _template_lines(workspace / df.template, sources)
    out = []
    for finding in found:
        line = 1
        if finding.instruction is not None:
            matches = [
                n for n, src in enumerate(source, 1) if " ".join(src.split()) == finding.instruction
            ]
            if len(matches) == 1:
                line = matches[0]
            elif finding.needle is not None:
                near = [n for n, src in enumerate(source, 1) if finding.needle in src]
                line = near[0] if len(near) == 1 else line
        shown = shown_file(None, df.template, workspace)
        out.append(
            Problem(
                Location(shown, line, 1),
                where,
                f"{finding.message} (package {df.package}, {df.release_type} on {df.distro_id})",
            )
        )
    return out


def _template_lines(path: Path, sources: Sources) -> list[str]:
    try:  # a FIFO is never opened
        return sources.read(path).decode("utf-8", "replace").splitlines()
    except OSError:
        return []
