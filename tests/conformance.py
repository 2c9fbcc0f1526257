"""What `docker buildx bake --print` must show for a plan: the oracle's side of conformance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bakegen.listing import tag_strings
from bakegen.model import Plan, resolve


def expected_targets(
    plan: Plan, group: str | None, env: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The targets bake resolves for `group` (None: default) under `env`, from the plan alone."""
    values = dict(plan.variables)
    values.update({k: v for k, v in env.items() if k in values})
    groups = {g.name: g.targets for g in plan.groups}
    names = groups.get(group or "default", (group or "",))
    out: dict[str, dict[str, Any]] = {}
    verifies = {v.target: v for v in plan.verifies}
    for name in names:
        if name in verifies:
            v = verifies[name]
            out[name] = {
                "context": ".",
                "dockerfile": "generated/_verify/Dockerfile",
                "args": dict(v.args),
                "platforms": list(v.platforms),
                "contexts": {"image": f"target:{v.image}"},
            }
    names = tuple(verifies[n].image if n in verifies else n for n in names)
    for image in plan.closure(tuple(names)):
        target: dict[str, Any] = {
            "context": ".",
            "dockerfile": image.dockerfile,
            "args": dict(image.args),
            "labels": {k: resolve(v, values) for k, v in plan.labels},
            "platforms": list(image.platforms),
        }
        tags = tag_strings(image, values)
        if tags:
            target["tags"] = tags
        if image.parent:
            target["contexts"] = {"base": f"target:{image.parent}"}
        out[image.target] = target
    return out


FIELDS = ("context", "dockerfile", "args", "labels", "platforms", "tags", "contexts")


def printed_targets(printed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields of bake's --print output that the plan decides."""
    return {
        name: {k: v for k, v in target.items() if k in FIELDS}
        for name, target in printed["target"].items()
    }
