"""Values the manifest states and the plan carries unchanged: bake variables, settings, CUDA keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bakegen.errors import KeyPath

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Var:
    """A reference to a bake variable inside a string, resolved at bake time."""

    name: str


Text = tuple["str | Var", ...]


def resolve(text: Text, env: Mapping[str, str]) -> str:
    """What bake makes of `text` given the variables' values."""
    return "".join(env[p.name] if isinstance(p, Var) else p for p in text)


def shown(text: Text) -> str:
    """`text` as people read it: literals as they are, variables as `${NAME}` (the bake file's
    own escaping is `emit.hcl.text_template`'s)."""
    return "".join(p if isinstance(p, str) else "${" + p.name + "}" for p in text)


@dataclass(frozen=True)
class Cudnn:
    """The cuDNN component of a CUDA version: `cudnn9` at `9.1.0.70-1` has major version `9`."""

    name: str
    version: str
    major_version: str


@dataclass(frozen=True)
class CudaKey:
    """The CUDA repository's signing key: exactly one of a file name in each architecture's
    folder of the repository, a URL, or a file in the workspace (copied into the build)."""

    name: str | None = None
    url: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class Secret:
    id: str
    env: str | None
    src: str | None


BakeValue = str | bool | tuple[str, ...]


@dataclass(frozen=True)
class BakeSetting:
    """A value a manifest's `bake:` key gives image targets: a whole attribute, or one key of a
    map attribute (`args`, `labels`, `contexts`, `extra-hosts`), with the key path it is written at."""

    attribute: str
    key: str | None
    value: BakeValue
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class Cache:
    """Where bake keeps each image target's build cache: `gha`, `registry` (images `ref:<target>`)
    or `local` (folders `dir/<target>`)."""

    type: str
    ref: str | None = None
    dir: str | None = None


@dataclass(frozen=True)
class Attestations:
    sbom: bool = False
    provenance: str | None = None  # min or max


@dataclass(frozen=True)
class CI:
    """The bake file's CI settings: cache, attestations, and inheriting docker/metadata-action's
    target. The defaults add nothing, so a local bake needs no CI service."""

    cache: Cache | None = None
    attestations: Attestations = Attestations()
    metadata_action: bool = False


@dataclass(frozen=True)
class Workflow:
    """The manifest's `workflow:` key, the settings of `bakegen ci github`'s workflow: the
    events that run it, its schedule, each kind of job's timeout in minutes, the runner label
    of each platform (bakegen's defaults, then the manifest's: `named` lists the platforms the
    manifest names), and steps of the user's own for the build jobs (mappings as written)."""

    events: tuple[str, ...] = ("push", "tags", "pull_request", "workflow_dispatch", "schedule")
    schedule: tuple[str, ...] = ()
    timeouts: tuple[tuple[str, int], ...] = ()
    runners: Pairs = ()
    named: tuple[str, ...] = ()
    steps: tuple[Mapping[str, Any], ...] = ()
    staging: str | None = None  # the staging repository, when the manifest names one


def versions(values: list[Any]) -> tuple[str, ...]:
    """A list of versions as text, each once, in the order written."""
    return tuple(dict.fromkeys(str(v) for v in values))


def bake_settings(spec: Any, path: KeyPath) -> tuple[BakeSetting, ...]:
    """A `bake:` mapping as settings: a map attribute gives one per key."""
    out: list[BakeSetting] = []
    for attribute, value in (spec or {}).items() if isinstance(spec, dict) else ():
        where = (*path, attribute)
        if isinstance(value, dict):
            out += [BakeSetting(attribute, str(k), str(v), (*where, k)) for k, v in value.items()]
        elif isinstance(value, list):
            out.append(BakeSetting(attribute, None, tuple(str(v) for v in value), where))
        elif isinstance(value, bool):
            out.append(BakeSetting(attribute, None, value, where))
        else:
            out.append(BakeSetting(attribute, None, str(value), where))
    return tuple(out)
