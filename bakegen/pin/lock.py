"""The lock of base images: each base image the manifest builds on, with the digest its tag
named when `bakegen pin` resolved it and the platforms that digest serves.

- where: beside the manifest and named after it, `manifest/` -> `manifest.lock`,
  `images.yml` -> `images.lock` (never a *.yml file, so a manifest folder never reads it);
- its text is YAML that only bakegen writes, in one order, so a pull request shows exactly
  which base moved;
- no lock file: nothing is pinned (pinning is opt-in). With one, `render` writes
  `FROM image:tag@sha256:...` for every image it has, and a base image it lacks, or has
  without a platform the manifest now builds on it, is drift that `render --check` reports;
- a base image written with a digest in the manifest is pinned there already: the lock
  leaves it out.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bakegen.errors import KeyPath, Location, ManifestError, Problem
from bakegen.layout import MARKER
from bakegen.load.compose import load_file
from bakegen.manifest.platforms import is_platform
from bakegen.manifest.records import Manifest
from bakegen.plan.records import Plan
from bakegen.sources import A_FILE, FOLDER, Sources

LOCK_SUFFIX = ".lock"
LOCK_VERSION = "1"
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}\Z")
HEADER = (
    f"# {MARKER}: `bakegen pin` adds base images, `bakegen pin --update` moves them.\n"
    "# Each base image of the manifest, the digest its tag named when pinned, and the\n"
    "# platforms that digest serves. Review it like code: a changed digest is a new base.\n"
)


@dataclass(frozen=True)
class Pin:
    digest: str
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class Need:
    """A base image the plan builds on: the platforms it is needed for, where it is written."""

    image: str
    platforms: tuple[str, ...]
    path: KeyPath


def lock_path(manifest: Path) -> Path:
    """The lock file of the manifest file or folder `manifest`."""
    name = manifest.name
    for suffix in (".yml", ".yaml"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return manifest.with_name(name + LOCK_SUFFIX)


def display(path: Path, workspace: Path) -> str:
    try:
        return path.relative_to(workspace).as_posix()
    except ValueError:
        return str(path)


def pinned(image: str, pin: Pin) -> str:
    """The reference a Dockerfile names: `debian:bookworm-slim@sha256:...`."""
    return f"{image}@{pin.digest}"


def needs(m: Manifest, plan: Plan) -> dict[str, Need]:
    """Every base image without a digest that the plan's Dockerfiles build on, in name order."""
    releases = {r.distro_id: r for r in m.releases}
    platforms: dict[str, set[str]] = {}
    paths: dict[str, KeyPath] = {}
    for df in plan.dockerfiles:
        release = releases.get(df.distro_id)
        if release is None or not release.base_image or "@" in release.base_image:
            continue
        image = release.base_image
        platforms.setdefault(image, set()).update(df.platforms)
        paths.setdefault(image, (*release.path, "base_image"))
    return {
        image: Need(image, tuple(sorted(platforms[image])), paths[image])
        for image in sorted(platforms)
    }


def covered(pin: Pin | None, need: Need) -> bool:
    return pin is not None and set(need.platforms) <= set(pin.platforms)


def drift(pins: Mapping[str, Pin], wanted: Mapping[str, Need], lock_name: str) -> list[str]:
    """One line for each base image the lock does not cover."""
    lines = []
    for image, need in wanted.items():
        pin = pins.get(image)
        if pin is None:
            lines.append(f"{lock_name}: {image} is not pinned; run `bakegen pin`")
        elif not covered(pin, need):
            lacking = ", ".join(p for p in need.platforms if p not in pin.platforms)
            lines.append(
                f"{lock_name}: {image} is pinned without {lacking}; run `bakegen pin {image}`"
            )
    return lines


def lock_text(pins: Mapping[str, Pin]) -> str:
    """The lock file's text; a pin the reader would refuse is a bug, never written."""
    refused: list[str] = []
    for image, pin in pins.items():
        entry = {"digest": pin.digest, "platforms": list(pin.platforms)}
        _pin(("images", image), entry, lambda key, message: refused.append(f"{key}: {message}"))
    if refused:
        raise ValueError(f"a lock entry the lock reader refuses: {refused[0]}")
    lines = [HEADER.rstrip("\n"), f"version: {LOCK_VERSION}", "images:" + ("" if pins else " {}")]
    for image in sorted(pins):
        pin = pins[image]
        lines += [
            f"  {json.dumps(image)}:",
            f"    digest: {pin.digest}",
            f"    platforms: [{', '.join(json.dumps(p) for p in pin.platforms)}]",
        ]
    return "\n".join(lines) + "\n"


REDO = "; run `bakegen pin --update` to write it anew"


@dataclass(frozen=True)
class Read:
    """A lock file as far as it could be read: its pins that are as bakegen writes them, and
    what is not (one problem each)."""

    pins: dict[str, Pin]
    problems: tuple[Problem, ...]


def read_lock(path: Path, shown: str, sources: Sources | None = None) -> dict[str, Pin] | None:
    """The pins of the lock file at `path`, read through `sources` (a reader of its own when
    none is given), or None when there is none; a lock that is not as bakegen writes it is a
    ManifestError naming the place, each line saying how to write it anew."""
    read = read_lock_leniently(path, shown, sources)
    if read is None:
        return None
    if read.problems:
        raise ManifestError(
            [dataclasses.replace(p, message=p.message + REDO) for p in read.problems]
        )
    return read.pins


def read_lock_leniently(path: Path, shown: str, sources: Sources | None = None) -> Read | None:
    """The lock file at `path` as far as it can be read (for writing it anew), or None when
    there is none."""
    sources = sources or Sources()
    kind, link = sources.kind(path), sources.is_link(path)
    if kind is None and not link:
        return None
    if link or kind != A_FILE:  # `pin` writes no lock there: no `pin --update` fixes it
        what = "a symlink" if link else "a folder" if kind == FOLDER else "not a regular file"
        said = f"is {what}: bakegen reads and writes the lock only as a regular file; move it away"
        raise ManifestError([Problem(Location(shown, 1, 1), (), said)])
    try:
        loaded = load_file(path, shown, sources)
    except ManifestError as exc:  # not YAML, not UTF-8, not a file, several documents...
        return Read({}, tuple(exc.problems))
    problems: list[Problem] = []

    def problem(key: KeyPath, message: str) -> None:
        problems.append(Problem(loaded.where(key) or Location(shown, 1, 1), key, message))

    pins = _pins(loaded.data, problem)
    return Read(pins, tuple(problems))


Complain = Callable[[KeyPath, str], None]


def _pins(data: dict[str, Any], problem: Complain) -> dict[str, Pin]:
    """The pins of a lock file's data; what is not as bakegen writes it, told to `problem`."""
    for name in sorted(set(data) - {"version", "images"}):
        problem((name,), "unknown key in a lock file")
    if str(data.get("version")) != LOCK_VERSION:
        problem(("version",), f"lock version must be {LOCK_VERSION}")
    images = data.get("images")
    if not isinstance(images, dict):
        problem(("images",), "must be a mapping of base images to their digests")
        images = {}
    pins: dict[str, Pin] = {}
    for image, entry in images.items():
        pin = _pin(("images", image), entry, problem)
        if pin is not None:
            pins[image] = pin
    return pins


def _pin(key: KeyPath, entry: object, problem: Complain) -> Pin | None:
    """One lock entry's pin, or None when it is not as bakegen writes it (the one check of
    both the reader and the writer)."""
    if not isinstance(entry, dict):
        problem(key, "must be a mapping with `digest` and `platforms`")
        return None
    digest, platforms = entry.get("digest"), entry.get("platforms")
    extra = sorted(set(entry) - {"digest", "platforms"})
    if extra:
        problem((*key, extra[0]), "unknown key in a lock entry")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        problem((*key, "digest"), "must be sha256:<64 hex digits>")
        return None
    if (
        not isinstance(platforms, list)
        or not platforms
        or not all(isinstance(p, str) and is_platform(p) for p in platforms)
    ):
        problem((*key, "platforms"), "must be a list of platforms like linux/amd64")
        return None
    return Pin(digest, tuple(platforms))
