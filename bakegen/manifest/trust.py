"""What the workflow checks and vouches for before and after publishing an image: the gates
each pushed per-platform image must pass (`gates:` at the top level, per release type and per
package, each level added after the one above), and the signing of the published images
(`signing:` at the top level, turned off per package with `signing: false`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bakegen.errors import KeyPath

if TYPE_CHECKING:
    from bakegen.manifest.records import Manifest

COSIGN = "cosign"


@dataclass(frozen=True)
class Gate:
    """One entry of a `gates:` list: a command (`run`), or `disabled: true` (`run` None): the image
    gets no gate of that name from a level above. `disabled` is None where it is not written."""

    name: str
    run: str | None
    path: KeyPath
    disabled: bool | None = None


@dataclass(frozen=True)
class Signing:
    """The top-level `signing:` key: the tool, and the GitHub secrets of a key pair of the
    user's own (`key` None: keyless, a certificate for the workflow's OIDC identity)."""

    tool: str
    keyless: bool
    key: str | None
    password: str | None
    tlog: bool
    path: KeyPath


def signing_of(value: Any, path: KeyPath = ("signing",)) -> Signing | None:
    """The `signing:` key as a record: `cosign` stands for `{tool: cosign, keyless: true}`."""
    if not value:
        return None
    spec = {"tool": value} if isinstance(value, str) else dict(value)
    key = spec.get("key") or None
    return Signing(
        tool=str(spec["tool"]),
        keyless=bool(spec.get("keyless", key is None)),
        key=key,
        password=spec.get("password") or None,
        tlog=spec.get("tlog") is not False,  # logged unless told not to
        path=path,
    )


def gates_of(items: Any, path: KeyPath) -> tuple[Gate, ...]:
    """A `gates:` list as records, each with its key path."""
    return tuple(
        Gate(
            name=str(item["name"]),
            run=str(item["run"]) if item.get("run") is not None else None,
            path=(*path, index),
            disabled=bool(item["disabled"]) if "disabled" in item else None,
        )
        for index, item in enumerate(items or [])
    )


def merged_gates(levels: Iterable[tuple[Gate, ...]]) -> tuple[Gate, ...]:
    """The gates of the levels, each level's after the one above: a gate named like an
    earlier one takes its place, `disabled` removes it."""
    found: dict[str, Gate] = {}
    for level in levels:
        for gate in level:
            if gate.disabled:
                found.pop(gate.name, None)
            elif gate.run is not None:
                found[gate.name] = gate
    return tuple(found.values())


def image_gates(m: Manifest, package: str, release_type: str) -> tuple[Gate, ...]:
    """The gates of a package's images of `release_type`: the top level's, the release
    type's, then the package's (a variant's: its package's, then its own)."""
    return merged_gates((m.gates, m.release_types[release_type].gates, m.packages[package].gates))


def image_signing(m: Manifest, package: str) -> Signing | None:
    """How a package's pushed images are signed; None: they are not."""
    if m.signing is None or m.packages[package].signing is False:
        return None
    return m.signing


def signing_from(m: Manifest, package: str) -> KeyPath:
    """Where the manifest says whether a package's images are signed."""
    record = m.packages[package]
    if record.signing is not None and record.signing_from:
        return record.signing_from
    return m.signing.path if m.signing else ("signing",)
