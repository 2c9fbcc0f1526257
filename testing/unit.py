"""Helpers for unit tests: manifests as in-memory data, run through the stages directly (no
temporary folders, no CLI)."""

from __future__ import annotations

import copy
from typing import Any

from bakegen.checks.manifest import manifest_problems
from bakegen.checks.plan import plan_problems
from bakegen.errors import ManifestError, Problem
from bakegen.load.sourcemap import Loaded
from bakegen.manifest.build import build_manifest
from bakegen.manifest.records import Manifest
from bakegen.plan.build import build_plan
from bakegen.plan.records import Plan
from bakegen.schema.document import defaults
from bakegen.schema.messages import schema_problems

RELEASE: dict[str, Any] = {
    "templates_dir": "templates/t",
    "base_image": "debian:bookworm-slim",
    "add_to_tags": "bookworm",
}
# The smallest useful manifest: one package, one release type, one distro release.
BASE: dict[str, Any] = {
    "python_versions": ["3.12"],
    "packages": {"app": {"runtime": ["debian"]}},
    "releases": {"debian": {"12": dict(RELEASE)}},
}


def manifest_data(**changes: Any) -> dict[str, Any]:
    """BASE with top-level keys replaced (None removes a key)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = copy.deepcopy(value)
    return data


def loaded(data: dict[str, Any]) -> Loaded:
    return Loaded(data=copy.deepcopy(data), sources={}, files=["m.yml"])


def typed(data: dict[str, Any]) -> Manifest:
    """The typed manifest of data that must pass the schema."""
    found, _ = schema_problems(loaded(data))
    assert found == [], [str(p) for p in found]
    return build_manifest(loaded(data), defaults())


def plan_of(data: dict[str, Any]) -> Plan:
    """The plan of data that must pass every check."""
    found = problems(data)
    assert found == [], found
    return build_plan(typed(data))


def problems(data: dict[str, Any]) -> list[str]:
    """Every problem the stages up to the plan's checks find, as `key.path: message` lines
    (templates are not looked at)."""
    found, sound = schema_problems(loaded(data))
    if not sound:
        return _lines(found)
    model = build_manifest(loaded(data), defaults())
    found = [*found, *manifest_problems(model)]
    if found:
        return _lines(found)
    try:
        plan = build_plan(model)
    except ManifestError as exc:
        return _lines(exc.problems)
    return _lines(plan_problems(model, plan))


def _lines(found: list[Problem]) -> list[str]:
    return [str(p) for p in ManifestError(found).problems] if found else []
