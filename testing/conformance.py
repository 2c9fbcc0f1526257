"""What `docker buildx bake --print` must show for a plan: the oracle's side of conformance."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from bakegen.commands.list import tag_strings
from bakegen.emit.bakefile import attest_entries, cache_entry
from bakegen.manifest.values import BakeSetting, Text, resolve
from bakegen.plan.records import Image, Plan


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
        out[image.target] = _image_target(plan, image, values)
    return out


def _image_target(plan: Plan, image: Image, values: Mapping[str, str]) -> dict[str, Any]:
    target: dict[str, Any] = {
        "context": image.context,
        # bake reads `dockerfile` from the context folder: the workspace's file, seen from there
        "dockerfile": posixpath.relpath(image.dockerfile, image.context),
        "args": dict(image.args),
        "labels": {k: resolve(v, values) for k, v in plan.labels},
        "platforms": list(image.platforms),
    }
    tags = tag_strings(image, values)
    if tags:
        target["tags"] = tags
    if image.parent:
        target["contexts"] = {"base": f"target:{image.parent}"}
    if plan.ci.cache:
        chain = [image]
        while chain[-1].parent:
            chain.append(plan.image(chain[-1].parent or ""))
        target["cache-from"] = [
            _entry(cache_entry(plan.ci, i.target, write=False), values) for i in chain
        ]
        target["cache-to"] = [_entry(cache_entry(plan.ci, image.target, write=True), values)]
    if image.push and attest_entries(plan.ci):
        target["attest"] = [_entry((a,), values) for a in attest_entries(plan.ci)]
    for setting in image.bake:
        _apply_setting(target, setting, values)
    return target


def _apply_setting(target: dict[str, Any], setting: BakeSetting, values: Mapping[str, str]) -> None:
    """A manifest's bake setting as bake prints it in the target."""
    if setting.key is not None:
        target[setting.attribute] = {
            **target.get(setting.attribute, {}),
            setting.key: setting.value,
        }
    elif setting.attribute in PARSED and isinstance(setting.value, tuple):
        target[setting.attribute] = [_entry((e,), values) for e in setting.value]
    elif setting.value == ():  # bake prints no empty list
        target.pop(setting.attribute, None)
    else:
        value = setting.value
        target[setting.attribute] = list(value) if isinstance(value, tuple) else value


def _entry(text: Text, values: Mapping[str, str]) -> dict[str, str]:
    """A cache or attest entry as bake prints it: its `key=value` pairs as a mapping."""
    return dict(pair.split("=", 1) for pair in resolve(text, values).split(","))


# List attributes whose `key=value,...` entries bake prints as mappings.
PARSED = ("attest", "cache-from", "cache-to", "output", "secret")
FIELDS = (
    "context",
    "dockerfile",
    "args",
    "labels",
    "platforms",
    "tags",
    "contexts",
    "cache-from",
    "cache-to",
    "attest",
)


def printed_targets(printed: dict[str, Any], plan: Plan | None = None) -> dict[str, dict[str, Any]]:
    """The fields of bake's --print output that the plan decides (with `plan`: also those its
    images' `bake:` values set)."""
    fields = {*FIELDS, *(s.attribute for i in (plan.images if plan else ()) for s in i.bake)}
    return {
        name: {k: v for k, v in target.items() if k in fields}
        for name, target in printed["target"].items()
    }
