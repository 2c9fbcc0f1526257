"""`bakegen pin`: resolve the manifest's base images to digests and keep them in its lock file.

Without `--update` only the base images the lock does not cover are resolved (new ones, ones
whose reference changed in the manifest, ones now built for a platform the lock lacks); with it,
all of them, or the ones named. The lock keeps exactly the base images the manifest builds on.
Every image is resolved before anything is written: one that fails is one line naming it (at
its place in the manifest), and the lock stays as it was; so does an interrupted run, since the
new lock replaces the old in one rename. A lock that is not as bakegen writes it (edited by
hand, cut short, merged badly) stops `pin`, whose message says to run `pin --update`; that
keeps the entries that can be read, resolves the others, and writes the lock anew.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bakegen.errors import ManifestError, Problem, UsageError, one_line
from bakegen.layout import manifest_path
from bakegen.manifest.records import Manifest
from bakegen.output import Streams
from bakegen.pin.lock import (
    Need,
    Pin,
    covered,
    display,
    lock_path,
    lock_text,
    needs,
    read_lock_leniently,
)
from bakegen.pin.oci import Credentials, Reference, RegistryError
from bakegen.pin.registry import Client
from bakegen.pipeline import plan_manifest, read_lock_of, read_manifest
from bakegen.write import Changes, apply, workspace_lock


@dataclass(frozen=True)
class Row:
    image: str
    digest: str
    change: str  # "new", "unchanged", "moved from sha256:...", "kept"


@dataclass(frozen=True)
class Outcome:
    rows: tuple[Row, ...]
    summary: str
    warnings: tuple[str, ...] = ()  # what of the old lock could not be read (with --update)


def credentials(m: Manifest, env: Mapping[str, str]) -> dict[str, Credentials]:
    """The credentials of each registry under `base_registries` whose variables are set."""
    found = {}
    for registry in m.base_registries:
        user, password = env.get(registry.user), env.get(registry.pwd)
        if user and password:
            found[registry.name] = Credentials(user, password)
    return found


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    images: Sequence[str] = (),
    update: bool = False,
    timeout: float = 20.0,
) -> int:
    """Resolve what the lock lacks (or, with `update`, `images` or all) and write the lock."""
    if images and not update:
        raise UsageError("naming images re-resolves them: add --update")
    with io.progress("resolving base images"):
        outcome = update_lock(
            ws, manifest, Client(timeout=timeout), os.environ, update=update, only=images
        )
    io.warn(outcome.warnings)
    for row in outcome.rows:
        io.out.print(one_line(f"{row.image}  {row.digest}  {row.change}"))
    io.err.print(one_line(outcome.summary))
    return 0


def update_lock(
    workspace: Path,
    manifest: Path | None,
    client: Client,
    env: Mapping[str, str],
    *,
    update: bool = False,
    only: Sequence[str] = (),
) -> Outcome:
    typed = read_manifest(workspace, manifest)
    wanted = needs(typed, plan_manifest(typed))
    unknown = [i for i in only if i not in wanted]
    if unknown:
        listed = ", ".join(wanted) or "none"
        raise UsageError(f"'{unknown[0]}' is no base image of the manifest (they are: {listed})")
    path = lock_path(manifest_path(workspace, manifest))
    shown = display(path, workspace)
    if shown == str(path):
        raise UsageError(f"{path}: the lock file must lie inside the workspace {workspace}")
    client.credentials = credentials(typed, env)
    with workspace_lock(workspace):
        current, damaged = _current(path, shown, workspace, manifest, update=update)
        chosen = set(only) if only else set(wanted)
        todo = [
            need
            for image, need in wanted.items()
            if (update and image in chosen) or not covered(current.get(image), need)
        ]
        resolved = _resolve(typed, client, todo)
        pins = {i: resolved.get(i) or current[i] for i in wanted}
        rows = tuple(
            _row(image, current.get(image), pins[image], image in resolved) for image in pins
        )
        text = lock_text(pins)
        old = _bytes(path, shown)
        if old != text.encode("utf-8"):
            change = Changes(update=[shown]) if old is not None else Changes(create=[shown])
            apply(workspace, {shown: text}, change)
            verb = "updated" if old is not None else "written"
        else:
            verb = "unchanged"
    dropped = sorted(set(current) - set(wanted))
    summary = f"{shown}: {verb}; {len(pins)} base image(s), {len(todo)} resolved"
    if dropped:
        summary += f", {len(dropped)} no longer used dropped ({', '.join(dropped)})"
    if damaged:
        summary += "; it was not as bakegen writes it (see the warnings): written anew"
    return Outcome(rows, summary, damaged)


def _current(
    path: Path, shown: str, workspace: Path, manifest: Path | None, *, update: bool
) -> tuple[dict[str, Pin], tuple[str, ...]]:
    """The pins of the lock as it is, and (with `update`) what of it could not be read: a
    damaged lock is no obstacle to writing it anew."""
    if not update:
        return read_lock_of(workspace, manifest) or {}, ()
    read = read_lock_leniently(path, shown)
    if read is None:
        return {}, ()
    return read.pins, tuple(str(p) for p in read.problems)


def _bytes(path: Path, shown: str) -> bytes | None:
    """The bytes of the lock file at `path`, or None when there is none; a UsageError when
    something else than a regular file stands there (a folder, a symlink), which `pin`
    never replaces."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            raise UsageError(
                f"{shown}: is not a regular file; move it away and run `bakegen pin` again"
            )
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read: {exc.strerror or exc}") from None


def _resolve(typed: Manifest, client: Client, todo: list[Need]) -> dict[str, Pin]:
    """Each image's pin; every failure is one problem naming the image, raised together."""
    pins: dict[str, Pin] = {}
    problems: list[Problem] = []
    for need in todo:
        try:
            found = client.resolve(Reference.parse(need.image), need.platforms)
        except RegistryError as exc:
            problems.append(typed.problem(need.path, f"{need.image}: {exc}"))
            continue
        pins[need.image] = Pin(found.digest, found.platforms)
    if problems:
        raise ManifestError(problems)
    return pins


def _row(image: str, old: Pin | None, new: Pin, resolved: bool) -> Row:
    if old is None:
        change = "new"
    elif old.digest != new.digest:
        change = f"moved from {old.digest}"
    else:
        change = "unchanged" if resolved else "kept"
    return Row(image, new.digest, change)
