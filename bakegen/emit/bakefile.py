"""The bake model (variables, groups, targets) built from a plan, rendered to HCL or JSON."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from bakegen.emit.bake_template import BakeTemplate, loader
from bakegen.emit.hcl import Call, Expr, Ref, hcl_string, to_hcl, to_json, to_json_value
from bakegen.emit.jinja import CompiledTemplates, strict_environment, template_problem
from bakegen.errors import ManifestError
from bakegen.layout import MARKER, PARENT_CONTEXT, VERIFY_DOCKERFILE
from bakegen.manifest.values import CI, BakeSetting, Text, Var
from bakegen.plan.records import Image, Plan, Tag, Verify

COMMON = "_common"
# docker/metadata-action's bake file defines this target; bakegen's bake file declares it empty
# so that a bake without that file still resolves.
METADATA_TARGET = "docker-metadata-action"
# Set per job (e.g. to `-linux-arm64`) where each job builds one platform, so no two jobs write
# one cache; empty on a laptop.
CACHE_SUFFIX = "CACHE_SUFFIX"
GATE_FUNCTION = (
    "gate",
    ("cond", "refs"),
    'cond != "" ? refs : []',
    "Registries with only_if get their tags only when that variable is non-empty.",
)
OR_LOCAL_FUNCTION = (
    "or_local",
    ("refs", "local"),
    "length(refs) > 0 ? refs : local",
    "Images whose registries are all gated off get a local name (package:tag) instead.",
)
# gate() as the bake file declares it where tag variables gate tags too.
TAG_GATE_FUNCTION = (
    *GATE_FUNCTION[:3],
    "Tags get given only while every variable they need is non-empty: a registry's only_if, "
    "the tag variables they use.",
)
Function = tuple[str, tuple[str, ...], str, str]


@dataclass(frozen=True)
class Block:
    name: str
    attrs: tuple[tuple[str, Expr], ...]

    @property
    def width(self) -> int:
        """The width of the longest attribute name (the template aligns the `=` signs)."""
        return max((len(k) for k, _ in self.attrs), default=0)

    @property
    def rows(self) -> tuple[tuple[str, Expr], ...]:
        """The attributes with their names padded to `width`, so the `=` signs align (one
        padding per block in Python, where the template would call two functions a line)."""
        width = self.width
        return tuple((key.ljust(width), value) for key, value in self.attrs)


@dataclass(frozen=True)
class BakeModel:
    variables: tuple[tuple[str, str], ...]
    functions: tuple[Function, ...]
    groups: tuple[Block, ...]
    targets: tuple[Block, ...]


def bake_model(plan: Plan) -> BakeModel:
    common: list[tuple[str, Expr]] = [
        ("context", "."),
        ("labels", dict(plan.labels)),
    ]
    if plan.secrets:
        common.append(("secret", [_secret(s.id, s.env, s.src) for s in plan.secrets]))
    targets = [Block(COMMON, tuple(common))]
    if plan.ci.metadata_action:
        targets.append(Block(METADATA_TARGET, ()))
    parents = {i.target: i.parent for i in plan.images}
    targets.extend(_target(image, plan.ci, parents) for image in plan.images)
    targets.extend(_verify_target(v) for v in plan.verifies)
    return BakeModel(
        variables=plan.variables,
        functions=_functions(plan),
        groups=tuple(Block(g.name, (("targets", list(g.targets)),)) for g in plan.groups),
        targets=tuple(targets),
    )


def _functions(plan: Plan) -> tuple[Function, ...]:
    needs = any(t.needs for i in plan.images for t in i.tags)
    functions = [TAG_GATE_FUNCTION] if needs else [GATE_FUNCTION] if plan.gates else []
    if any(t.fallback for i in plan.images for t in i.tags):
        functions.append(OR_LOCAL_FUNCTION)
    return tuple(functions)


def _secret(sid: str, env: str | None, src: str | None) -> str:
    return f"id={sid},env={env}" if env else f"id={sid},src={src}"


def _target(image: Image, ci: CI, parents: dict[str, str | None]) -> Block:
    inherits: list[Expr] = [COMMON]
    if ci.metadata_action and image.push:
        inherits.append(METADATA_TARGET)
    attrs: list[tuple[str, Expr]] = [
        ("inherits", inherits),
        *((("context", image.context),) if image.context != "." else ()),
        ("dockerfile", posixpath.relpath(image.dockerfile, image.context)),  # bake: from context
        ("platforms", list(image.platforms)),
    ]
    if image.parent:
        attrs.append(("contexts", {PARENT_CONTEXT: f"target:{image.parent}"}))
    attrs.append(("args", dict(image.args)))
    if image.push:
        attrs.append(("tags", tags_expr(image.tags)))
    if ci.cache:
        chain = [image.target]
        while (parent := parents.get(chain[-1])) and parent not in chain:
            chain.append(parent)
        attrs.append(("cache-from", [cache_entry(ci, t, write=False) for t in chain]))
        attrs.append(("cache-to", [cache_entry(ci, image.target, write=True)]))
    if image.push and attest_entries(ci):
        attrs.append(("attest", list(attest_entries(ci))))
    return Block(image.target, with_bake(attrs, image.bake))


def with_bake(
    attrs: list[tuple[str, Expr]], settings: tuple[BakeSetting, ...]
) -> tuple[tuple[str, Expr], ...]:
    """`attrs` with the manifest's `bake:` values after them; a map attribute's keys join
    bakegen's own (the checks keep them from replacing one)."""
    out = dict(attrs)
    for setting in settings:
        value: Expr = list(setting.value) if isinstance(setting.value, tuple) else setting.value
        if setting.key is None:
            out[setting.attribute] = value
        else:
            current = out.get(setting.attribute)
            out[setting.attribute] = {
                **(current if isinstance(current, dict) else {}),
                setting.key: value,
            }
    return tuple(out.items())


def cache_entry(ci: CI, target: str, *, write: bool) -> Text:
    """One cache-from (or cache-to, `write`) entry of `target`: its own scope, per platform
    through CACHE_SUFFIX. Writes export every layer (mode=max), parents' stages included."""
    cache = ci.cache
    assert cache is not None
    suffix = Var(CACHE_SUFFIX)
    mode = ",mode=max" if write else ""
    if cache.type == "gha":
        return (f"type=gha,scope={target}", suffix, mode)
    if cache.type == "registry":
        return (f"type=registry,ref={cache.ref}:{target}", suffix, mode)
    where = "dest" if write else "src"
    return (f"type=local,{where}={cache.dir}/{target}", suffix, mode)


def attest_entries(ci: CI) -> tuple[str, ...]:
    """Bake `attest` entries of pushed images."""
    out = []
    if ci.attestations.sbom:
        out.append("type=sbom")
    if ci.attestations.provenance:
        out.append(f"type=provenance,mode={ci.attestations.provenance}")
    return tuple(out)


def _verify_target(verify: Verify) -> Block:
    return Block(
        verify.target,
        (
            ("context", "."),
            ("dockerfile", VERIFY_DOCKERFILE),
            ("platforms", list(verify.platforms)),
            ("contexts", {"image": f"target:{verify.image}"}),
            ("args", dict(verify.args)),
            ("output", ["type=cacheonly"]),
        ),
    )


def tags_expr(tags: tuple[Tag, ...]) -> Expr:
    """Tags as one expression: plain tags as a list, gated ones (a registry's only_if, tag
    variables) through gate(), and a fallback name through or_local() when every registry is
    gated off."""
    expr = _given(tuple(t for t in tags if not t.fallback))
    fallback = tuple(t for t in tags if t.fallback)
    return Call(OR_LOCAL_FUNCTION[0], (expr, _given(fallback))) if fallback else expr


def _given(tags: tuple[Tag, ...]) -> Expr:
    """The tags bake gives of `tags`: runs of plain tags as lists, each gated tag as gate()
    calls (one per variable it needs, the registry's first), concatenated."""
    parts: list[Expr] = []
    plain: list[Expr] = []
    for tag in tags:
        if tag.conditions:
            if plain:
                parts.append(plain)
                plain = []
            gated: Expr = [tag.text]
            for name in reversed(tag.conditions):
                gated = Call("gate", (Ref(name), gated))
            parts.append(gated)
        else:
            plain.append(tag.text)
    if plain or not parts:
        parts.append(plain)
    return parts[0] if len(parts) == 1 else Call("concat", tuple(parts))


def render_hcl(
    model: BakeModel,
    template: BakeTemplate,
    workspace: Path,
    compiled: CompiledTemplates | None = None,
) -> str:
    """Render the bake model through `template`.

    The file always starts with bakegen's marker line, whatever an override prints (or leaves
    out of the blocks it replaces), so that later renders know the file as bakegen's own.
    """
    env = strict_environment(loader(template), compiled)
    env.filters["hcl"] = to_hcl
    env.filters["hcl_string"] = hcl_string
    try:
        text = env.get_template(template.name).render(bake=model, marker=MARKER, width=_width)
    except Exception as exc:  # a workspace's own bake template may be wrong
        raise ManifestError([template_problem(exc, template.name, (), workspace)]) from None
    first = f"# {MARKER}\n"
    return text if text.startswith(first) else first + text


def _width(block: Block) -> int:
    return block.width


def render_json(model: BakeModel) -> str:
    document: dict[str, object] = {
        "variable": {
            "BAKEGEN": {"default": MARKER},
            **{name: {"default": default} for name, default in model.variables},
        },
    }
    if model.functions:
        document["function"] = {
            name: {"params": list(params), "result": "${" + result + "}"}
            for name, params, result, _ in model.functions
        }
    document["group"] = {b.name: {k: to_json_value(v) for k, v in b.attrs} for b in model.groups}
    document["target"] = {b.name: {k: to_json_value(v) for k, v in b.attrs} for b in model.targets}
    return to_json(document)
