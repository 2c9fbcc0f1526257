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
from bakegen.plan.records import Image, Plan, Tag, active_tags

COLUMNS = ("target", "python", "cuda", "platforms", "parent", "tags")
# What follows a tag whose text the built image decides (`{output}`).
READ_FROM_IMAGE = "(read from the image)"


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
    tags = " ".join(row["tags"]) or ("(not pushed)" if not row["push"] else "(gated off)")
    if row["tags_held"]:
        tags += "".join(f" {t['tag']} (needs {', '.join(t['needs'])})" for t in row["tags_held"])
    tags += "".join(f" {t} {READ_FROM_IMAGE}" for t in row["tags_from_image"])
    if row["platform_tags"]:
        tags += f" {platform_tags_text(row['platform_tags'])}"
    return (
        row["target"],
        row["python"],
        row["cuda"] or "",
        ",".join(row["platforms"]),
        row["parent"] or "",
        tags,
    )


def tag_strings(image: Image, env: Mapping[str, str]) -> list[str]:
    """The tags bake gives `image` when the variables have the values in `env`."""
    return [resolve(t.text, env) for t in active_tags(image.tags, env)]


def image_tag_strings(image: Image, env: Mapping[str, str]) -> list[str]:
    """The tags read from the built image that `image` gets with the variables in `env`, in
    every repository of the tags bake gives it, `{output}` standing for what each command
    prints."""
    repositories = dict.fromkeys(t.rpartition(":")[0] for t in tag_strings(image, env))
    return [
        f"{repository}:{resolve(tag.text, env)}"
        for tag in image.image_tags
        if all(env.get(name) for name in tag.needs)
        for repository in repositories
    ]


def platform_tags_text(templates: Mapping[str, str]) -> str:
    """An image's platform tag templates, for people: `(per platform: linux/amd64 x86_64-{tag})`."""
    return f"(per platform: {', '.join(f'{p} {t}' for p, t in templates.items())})"


def held_tags(image: Image, env: Mapping[str, str]) -> list[Tag]:
    """The tags bake would give `image` once the tag variables left empty in `env` are set."""
    unset = {n for t in image.tags for n in t.needs if not env.get(n)}
    if not unset:
        return []
    given = active_tags(image.tags, {**env, **dict.fromkeys(unset, "set")})
    return [t for t in given if unset & set(t.needs)]


def _held(tag: Tag, values: Mapping[str, str]) -> dict[str, Any]:
    """A held tag: its text with the set variables resolved, and the tag variables it waits for."""
    unset = [n for n in tag.needs if not values.get(n)]
    text = "".join(
        p if isinstance(p, str) else shown((p,)) if p.name in unset else values.get(p.name, "")
        for p in tag.text
    )
    return {"tag": text, "needs": unset}


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
            "tags_held": [_held(t, values) for t in held_tags(i, values)],
            "tags_from_image": image_tag_strings(i, values),
            "platform_tags": dict(i.platform_tags),
            "all_tags": [
                {
                    "registry": t.registry,
                    "only_if": t.gate,
                    "fallback": t.fallback,
                    "needs": list(t.needs),
                    "tag": shown(t.text),
                }
                for t in i.tags
            ],
        }
        for i in plan.images
    ]
