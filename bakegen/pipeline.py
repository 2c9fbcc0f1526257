"""The pipeline in one call: load -> validate -> plan -> emit (write is the caller's choice)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bakegen.emit import emit
from bakegen.layout import DEFAULT_MANIFEST
from bakegen.load import load
from bakegen.model import Plan
from bakegen.plan import build_plan
from bakegen.validate import validate


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    outputs: dict[str, str]


def plan_workspace(
    workspace: Path, manifest: Path | None = None, max_targets: int | None = None
) -> Plan:
    path = manifest if manifest is not None else workspace / DEFAULT_MANIFEST
    if not path.is_absolute():
        path = workspace / path
    loaded = load(path, workspace)
    validate(loaded, workspace)
    return build_plan(loaded, max_targets)


def compile_workspace(
    workspace: Path,
    manifest: Path | None = None,
    fmt: str = "hcl",
    max_targets: int | None = None,
) -> Compiled:
    plan = plan_workspace(workspace, manifest, max_targets)
    return Compiled(plan, emit(plan, workspace, fmt))
