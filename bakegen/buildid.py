"""Build ids: for each image and platform, a sha256 over a canonical encoding of everything that
decides the image's bytes on that platform, so that a CI run can skip what it has built before.

What is hashed for one image on one platform is the JSON document `document` makes, encoded
by `encode` (keys sorted, no spaces, UTF-8):

- `format`: FORMAT, which changes whenever this encoding does;
- `platform`: the one platform, e.g. `linux/arm64`;
- `attributes`: the image's bake entry (bakegen's `_common` target under its own, merged as bake
  merges `inherits`), the bake variables resolved with the environment's values as bake
  resolves them (`Plan.values`): `args`, `labels` and every attribute a manifest's `bake:` gives,
  less those that never decide the bytes (NOT_BUILT: tags, cache, the description) and those
  replaced below (REPLACED);
- `secrets`: the ids of the secrets the build may mount, sorted (never their values or sources);
- `inputs`: what `bakegen.affected.inputs.target_of` finds the build reads: `dockerfile` (the
  sha256 of the rendered Dockerfile), `context file PATH` and `context NAME file PATH` (each
  file a COPY, ADD or bind mount takes from the build context or a named folder context, by its
  path in that context, less what .dockerignore leaves out: `file|executable <sha256>`, or
  `symlink <target>`), the Dockerfile's paths expanded with this entry's arguments and platform;
- `contexts`: the named contexts that are neither another target nor a folder (an image, a
  URL), by name, as written; a folder context is `folder` (its files are in `inputs`);
- `parents`: each `target:` context by name: `{"id": <its build id on this platform>}`, or
  `{"digest": "sha256:..."}` where the caller gives the digest built for that target;
- `bake template`: the sha256 of the workspace's own docker-bake.hcl.j2 (it may add any
  attribute to a target), or null with the one bakegen ships.

No path of the workspace on disk, no time and no tag is part of it: the same workspace anywhere
gives the same ids, and a tag renamed changes none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bakegen.affected.entries import Entry, merge
from bakegen.affected.files import Files
from bakegen.affected.inputs import BAKE_ENTRY, TARGET, is_local, target_of
from bakegen.emit.bakefile import COMMON, bake_model
from bakegen.emit.hcl import Call, Ref, to_json_value
from bakegen.errors import UsageError, did_you_mean
from bakegen.manifest.values import Text, resolve
from bakegen.pipeline import Compiled, bake_template, compile_workspace
from bakegen.plan.records import Image
from bakegen.sources import Sources

FORMAT = "bakegen build id 1"
SHORT = 12  # the hex digits of an id a table shows
# Attributes that never decide an image's bytes: what it is called, where its cache lies.
NOT_BUILT = frozenset({"inherits", "tags", "cache-from", "cache-to", "description"})
# Attributes hashed as what they stand for: the files read, the one platform, the parents' ids,
# the secrets' ids.
REPLACED = frozenset({"context", "dockerfile", "platforms", "contexts", "secret"})
FOLDER = "folder"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SIDE = "build id"  # the side `target_of` names when an entry cannot be followed (never here)


@dataclass(frozen=True)
class BuildId:
    target: str
    platform: str
    id: str
    parent: str | None  # the image it is built FROM
    parent_id: str | None  # what stands for that parent in the hash: its id, or its digest
    verify: str | None = None  # its verify target, when it has one
    children: bool = False  # whether an image of the plan is built FROM it

    def record(self) -> dict[str, str | bool | None]:
        return {
            "target": self.target,
            "platform": self.platform,
            "id": self.id,
            "parent": self.parent,
            "parent_id": self.parent_id,
            "verify": self.verify,
            "children": self.children,
        }


def encode(document: Mapping[str, object]) -> bytes:
    """The canonical bytes of a document: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def build_ids(
    workspace: Path,
    manifest: Path | None = None,
    *,
    env: Mapping[str, str],
    targets: Sequence[str] = (),
    platform: str | None = None,
    parent_digests: Mapping[str, str] | None = None,
) -> list[BuildId]:
    """The build id of each image of `targets` (default: every image), on each of its platforms
    (only `platform`, when given), in the plan's order."""
    sources = Sources()
    compiled = compile_workspace(workspace, manifest, sources=sources)
    template = bake_template(workspace, sources)
    own = None if template.shipped else hashlib.sha256(template.source.encode()).hexdigest()
    ids = Ids(compiled, workspace, env, parent_digests or {}, own)
    return [ids.row(image, p) for image, p in selected(ids, targets, platform)]


def selected(ids: Ids, targets: Sequence[str], platform: str | None) -> list[tuple[Image, str]]:
    """The images and platforms asked for; a one-line error for a name no image has."""
    images = ids.compiled.plan.images
    names = [i.target for i in images]
    for target in targets:
        if target not in ids.images:
            raise UsageError(
                f"--target {target!r}: no image of the plan is named so{did_you_mean(target, names)}"
                " (`bakegen list` shows them)"
            )
    platforms = sorted({p for i in images for p in i.platforms})
    if platform is not None and platform not in platforms:
        raise UsageError(
            f"--platform {platform!r}: no image is built for it{did_you_mean(platform, platforms)}"
            f" (the plan's platforms: {', '.join(platforms)})"
        )
    wanted = [i for i in images if not targets or i.target in targets]
    return [(i, p) for i in wanted for p in i.platforms if platform in (None, p)]


class Ids:
    """The build ids of one compiled workspace, each worked out once."""

    def __init__(
        self,
        compiled: Compiled,
        workspace: Path,
        env: Mapping[str, str],
        parent_digests: Mapping[str, str],
        bake_template: str | None = None,
    ) -> None:
        self.compiled = compiled
        self.images = {i.target: i for i in compiled.plan.images}
        for target, digest in parent_digests.items():
            if target not in self.images:
                raise UsageError(
                    f"--parent-digest {target}={digest}: no image of the plan is named "
                    f"{target!r}{did_you_mean(target, list(self.images))}"
                )
        self.digests = dict(parent_digests)
        self.values = compiled.plan.values(env)
        self.bake_template = bake_template
        self.files = Files(workspace, workspace, compiled.outputs)
        blocks: dict[str, dict[str, object]] = {
            b.name: dict(b.attrs) for b in bake_model(compiled.plan).targets
        }
        common = blocks[COMMON]
        self.entries = {name: merge(common, blocks[name]) for name in self.images}
        self._ids: dict[tuple[str, str], str] = {}

    def row(self, image: Image, platform: str) -> BuildId:
        parent = image.parent
        parent_id = self._parent(parent, platform, ()) if parent else None
        shown = None if parent_id is None else next(iter(parent_id.values()))
        plan = self.compiled.plan
        verify = next((v.target for v in plan.verifies if v.image == image.target), None)
        children = any(i.parent == image.target for i in plan.images)
        found = self.id(image.target, platform)
        return BuildId(image.target, platform, found, parent, shown, verify, children)

    def id(self, target: str, platform: str, stack: tuple[str, ...] = ()) -> str:
        """The build id of the image `target` on `platform` (a hex sha256)."""
        key = (target, platform)
        if key not in self._ids:
            if target in stack:
                chain = " -> ".join((*stack[stack.index(target) :], target))
                raise UsageError(f"{target}: its contexts build it from itself ({chain})")
            document = self.document(target, platform, (*stack, target))
            self._ids[key] = hashlib.sha256(encode(document)).hexdigest()
        return self._ids[key]

    def document(
        self, target: str, platform: str, stack: tuple[str, ...] = ()
    ) -> dict[str, object]:
        """What the build id of `target` on `platform` is the sha256 of (see the module)."""
        attrs = {k: _resolved(v, self.values) for k, v in self.entries[target].items()}
        contexts = attrs.get("contexts") or {}
        assert isinstance(contexts, dict)
        args = attrs.get("args") or {}
        entry = Entry(
            target,
            "",
            attrs.get("context", "."),
            attrs["dockerfile"],
            None,
            contexts,
            args,
            [platform],
        )
        inputs = target_of(entry, self.files, _SIDE).own
        inputs.pop(BAKE_ENTRY)
        return {
            "format": FORMAT,
            "platform": platform,
            "attributes": {k: v for k, v in attrs.items() if k not in NOT_BUILT | REPLACED},
            "secrets": sorted({s.id for s in self.compiled.plan.secrets}),
            "inputs": inputs,
            "contexts": {
                name: FOLDER if is_local(value) else value
                for name, value in contexts.items()
                if not str(value).startswith(TARGET)
            },
            "parents": {
                name: self._parent(str(value).removeprefix(TARGET), platform, stack)
                for name, value in contexts.items()
                if str(value).startswith(TARGET)
            },
            "bake template": self.bake_template,
        }

    def _parent(self, target: str, platform: str, stack: tuple[str, ...]) -> dict[str, str]:
        """What stands for a `target:` context in the hash."""
        if target in self.digests:
            return {"digest": self.digests[target]}
        if target in self.images:
            return {"id": self.id(target, platform, stack)}
        return {"target": target}  # a target of the bake file that is no image of the plan


def _resolved(expr: object, values: Mapping[str, str]) -> object:
    """A bake value with the variables' values in place of the variables."""
    if isinstance(expr, tuple):
        return resolve(cast(Text, expr), values)
    if isinstance(expr, list):
        return [_resolved(e, values) for e in expr]
    if isinstance(expr, dict):
        return {k: _resolved(v, values) for k, v in expr.items()}
    if isinstance(expr, (Call, Ref)):
        return to_json_value(expr)  # bake's own expression, as its text
    return expr
