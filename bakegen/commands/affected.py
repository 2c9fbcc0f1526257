"""`bakegen affected --since REF`: the bake targets whose build inputs differ between a git
revision and the working tree.

A target's inputs: its resolved bake entry (with what it inherits), its Dockerfile's bytes, the
bytes of every workspace file its Dockerfile COPYs or ADDs from the build context, and the
inputs of the targets it is built FROM (through `target:` contexts), so a child of a changed
parent is affected. Both sides are compiled in memory: REF from git's objects (`git archive`
into a temporary folder, never a checkout over the working tree), the working tree from its
manifest and templates (its generated files are not read). When REF does not compile (no
workspace there yet, or an invalid manifest), every target is affected, and a line says why.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import re
import shlex
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bakegen.checks.dockerfiles import instructions
from bakegen.emit.bakefile import bake_model
from bakegen.emit.hcl import Expr, hcl_string, to_hcl, to_json_value
from bakegen.errors import BakegenError, UsageError
from bakegen.layout import MARKER
from bakegen.output import Streams
from bakegen.pipeline import Compiled, compile_workspace
from bakegen.write import replace_file


@dataclass(frozen=True)
class Target:
    """What one target is built from: its own inputs (by kind) and its parents."""

    own: dict[str, str]  # "bake entry", "dockerfile", "context file PATH" -> digest
    parents: tuple[str, ...]


@dataclass
class Affected:
    targets: dict[str, list[str]] = field(default_factory=dict)  # target -> reasons
    note: str | None = None  # why everything is affected, when it is


def inputs(compiled: Compiled, workspace: Path) -> dict[str, Target]:
    """Every bake target's inputs, keyed by target name."""
    model = bake_model(compiled.plan)
    blocks = {b.name: dict(b.attrs) for b in model.targets}
    out: dict[str, Target] = {}
    for name, attrs in blocks.items():
        if name.startswith("_"):
            continue
        entry: dict[str, object] = {}
        for parent in attrs.get("inherits") or []:  # type: ignore[union-attr]
            entry.update({k: to_json_value(v) for k, v in blocks[str(parent)].items()})
        entry.update({k: to_json_value(v) for k, v in attrs.items()})
        text = json.dumps(entry, sort_keys=True)
        # The defaults of the variables it names are part of it: VERSION is in every label.
        used = {n: d for n, d in model.variables if re.search(rf"\b{re.escape(n)}\b", text)}
        own = {"bake entry": _digest(json.dumps([entry, used], sort_keys=True).encode())}
        dockerfile = str(attrs["dockerfile"])
        source = compiled.outputs[dockerfile]
        own["dockerfile"] = _digest(source.encode())
        for path in sorted(context_files(source, workspace)):
            own[f"context file {path}"] = _digest((workspace / path).read_bytes())
        contexts = attrs.get("contexts") or {}
        parents = tuple(
            str(v).removeprefix("target:")
            for v in contexts.values()  # type: ignore[union-attr]
            if str(v).startswith("target:")
        )
        out[name] = Target(own, parents)
    return out


def context_files(dockerfile: str, workspace: Path) -> Iterator[str]:
    """Workspace files (relative paths) that COPY and ADD instructions read from the context."""
    for instruction in instructions(dockerfile):
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        rest = " ".join(instruction.words)
        if rest.startswith("["):
            try:
                words = [str(w) for w in json.loads(rest)]
            except ValueError:
                continue
        else:
            words = shlex.split(rest, posix=True)
        flags = [w for w in words if w.startswith("--")]
        if any(f.startswith("--from=") for f in flags):
            continue  # from another stage or context, not the workspace
        sources = [w for w in words if not w.startswith("--")][:-1]
        for source in sources:
            if "://" in source:
                continue
            yield from _files(workspace, source)


def _files(workspace: Path, pattern: str) -> Iterator[str]:
    root = workspace.resolve()
    for match in sorted(glob.glob(str(workspace / pattern.lstrip("/")), recursive=True)):
        path = Path(match)
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            resolved = candidate.resolve()
            if candidate.is_file() and root in resolved.parents:
                yield resolved.relative_to(root).as_posix()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def affected(
    workspace: Path, since: str, manifest: Path | None = None, fmt: str = "hcl"
) -> Affected:
    """The targets whose inputs differ between `since` and the working tree, with reasons."""
    now = inputs(compile_workspace(workspace, manifest, fmt), workspace)
    result = Affected()
    with tempfile.TemporaryDirectory(prefix="bakegen-affected-") as tmp:
        old_ws = _checkout(workspace, since, Path(tmp))
        try:
            before = inputs(compile_workspace(old_ws, manifest, fmt), old_ws)
        except BakegenError as exc:
            result.note = f"{since} does not compile ({exc.lines()[0]}); every target is affected"
            result.targets = {t: ["not compiled at " + since] for t in sorted(now)}
            return result
    changed: dict[str, list[str]] = {}
    for name, target in now.items():
        old = before.get(name)
        if old is None:
            changed[name] = [f"new since {since}"]
            continue
        reasons = [
            k for k in sorted(set(target.own) | set(old.own)) if target.own.get(k) != old.own.get(k)
        ]
        if reasons:
            changed[name] = [f"{r} changed" for r in reasons]
    # Children of affected targets are affected, through their contexts.
    grew = True
    while grew:
        grew = False
        for name, target in now.items():
            hit = [p for p in target.parents if p in changed]
            if hit and name not in changed:
                changed[name] = [f"built FROM {p}" for p in hit]
                grew = True
    result.targets = {name: changed[name] for name in now if name in changed}
    return result


def _checkout(workspace: Path, ref: str, dest: Path) -> Path:
    """The workspace as it is at `ref`, extracted from git's objects into `dest`."""

    def git(*args: str) -> bytes:
        proc = subprocess.run(
            ["git", "-C", str(workspace), *args], capture_output=True, check=False
        )
        if proc.returncode != 0:
            said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise UsageError(f"git {' '.join(args)}: {said[-1] if said else 'failed'}")
        return proc.stdout

    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except UsageError:
        raise UsageError(
            f"'{ref}' is no commit of the git repository holding {workspace}"
        ) from None
    prefix = git("rev-parse", "--show-prefix").decode().strip()
    archive = git("archive", "--format=tar", commit)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / prefix if prefix else dest


def bake_file(targets: list[str]) -> str:
    """A bake file with one group `affected`, to pass with `-f` beside the workspace's (the
    group written as docker-bake.hcl writes its groups)."""
    items: list[Expr] = list(targets)
    group = f"group {hcl_string('affected')} {{\n  targets = {to_hcl(items, '  ')}\n}}\n"
    return f"# {MARKER}\n{group}"


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    since: str,
    as_json: bool = False,
    bake: Path | None = None,
) -> int:
    """The affected targets, one a line (or JSON with reasons); `bake` also writes them as a
    bake file's group."""
    found = affected(ws, since, manifest)
    if found.note:
        io.err.print(f"warning: {found.note}")
    if bake is not None:
        replace_file(bake, bake_file(list(found.targets)))
    if as_json:
        io.write(json.dumps(found.targets, indent=2) + "\n")
    else:
        for target in found.targets:
            io.out.print(target)
    return 0
