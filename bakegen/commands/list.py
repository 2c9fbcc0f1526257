"""`bakegen list`: one record per image (target, tags as bake resolves them with this
environment, platforms), for people (a table) and machines (JSON)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bakegen.manifest.values import resolve, shown
from bakegen.output import Streams, table
from bakegen.pipeline import plan_workspace
from bakegen.plan.records import Image, Plan, active_tags

COLUMNS = ("target", "python", "cuda", "platforms", "parent", "tags")


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    as_json: bool = False,
    max_targets: int | None = None,
) -> int:
    rows = records(plan_workspace(ws, manifest, max_targets), os.environ)
    if as_json:
        io.write(json.dumps(rows, indent=2) + "\n")
    else:
        table(io.out, COLUMNS, [_cells(row) for row in rows])
    return 0


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    return (
        row["target"],
        row["python"],
        row["cuda"] or "",
        ",".join(row["platforms"]),
        row["parent"] or "",
        " ".join(row["tags"]) or ("(not pushed)" if not row["push"] else "(gated off)"),
    )


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
