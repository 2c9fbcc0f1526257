"""Each build context's `.dockerignore`, beside the Dockerfiles built in it: BuildKit reads
`<Dockerfile>.dockerignore` before the context's own, so an image whose context is a folder of
its own gets that folder's rules whatever else is in the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bakegen.errors import Location, ManifestError, Problem
from bakegen.layout import MARKER
from bakegen.plan.records import Plan
from bakegen.sources import A_FILE, Sources, decode_utf8

IGNORE_FILE = ".dockerignore"


def read_ignores(plan: Plan, workspace: Path, sources: Sources) -> dict[str, str]:
    """Context folder -> its `.dockerignore` text, for each context of the plan but the
    workspace's (which BuildKit reads itself)."""
    out: dict[str, str] = {}
    for context in sorted({df.context for df in plan.dockerfiles} - {"."}):
        path = workspace / context / IGNORE_FILE
        if sources.kind(path) != A_FILE:
            continue
        shown = f"{context}/{IGNORE_FILE}"
        try:
            text = decode_utf8(sources.read(path))
        except OSError as exc:
            raise _refuse(shown, f"cannot read: {exc.strerror or exc}") from None
        if isinstance(text, tuple):
            raise _refuse(shown, "file is not UTF-8 text", *text)
        out[context] = text
    return out


def ignore_files(plan: Plan, ignores: Mapping[str, str]) -> dict[str, str]:
    """`<Dockerfile>.dockerignore` of each Dockerfile whose context has a `.dockerignore`."""
    return {
        f"{df.path}{IGNORE_FILE}": f"# {MARKER} (from {df.context}/{IGNORE_FILE})\n"
        + ignores[df.context]
        for df in plan.dockerfiles
        if df.context in ignores
    }


def _refuse(shown: str, message: str, line: int = 1, column: int = 1) -> ManifestError:
    return ManifestError([Problem(Location(shown, line, column), (), message)])
