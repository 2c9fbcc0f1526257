"""What `bakegen list` shows: one record per image, for people (a table) and machines (JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bakegen.manifest.values import resolve, shown
from bakegen.plan.records import Image, Plan, active_tags


def tag_strings(image: Image, env: Mapping[str, str]) -> list[str]:
    """The tags bake gives `image` when the variables have the values in `env`."""
    return [resolve(t.text, env) for t in active_tags(image.tags, env)]


def records(plan: Plan, env: Mapping[str, str]) -> list[dict[str, Any]]:
    values = plan.values(env)
    return [
        {
            "target": i.target,
            "package": i.package,
            "release_type": i.release_type,
            "distro": i.distro_id,
            "python": i.python,
            "cuda": i.cuda.version if i.cuda else None,
            "platforms": list(i.platforms),
            "dockerfile": i.dockerfile,
            "parent": i.parent,
            "push": i.push,
            "tags": tag_strings(i, values),
            "all_tags": [
                {
                    "registry": t.registry,
                    "only_if": t.gate,
                    "fallback": t.fallback,
                    "tag": shown(t.text),
                }
                for t in i.tags
            ],
        }
        for i in plan.images
    ]
