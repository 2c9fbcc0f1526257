"""Check stage, after emit: the bake file holds what the plan promises, and the `target:`
contexts the manifest's `bake:` adds name targets of it without making a loop.

- a workspace's `docker-bake.hcl.j2` must print HCL (strings and brackets closed, each line
  an attribute or a block) with every target and group of the bake model: an override that
  drops a block, or prints text bake cannot read, is one line at the template, instead of a
  bake file that `docker buildx bake` refuses (a target of its own is fine);
- a `contexts` value `target:NAME` names a target of the bake file (bake: "failed to find
  target"), not the image's own (bake: "cannot link to itself"), and none that is built from
  the image (bake: "infinite loop").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bakegen.checks.bake_template import block_place
from bakegen.checks.hcl_shape import HclError, position, top_blocks
from bakegen.emit.bake_template import BakeTemplate
from bakegen.emit.bakefile import COMMON, METADATA_TARGET
from bakegen.errors import Location, Problem, did_you_mean
from bakegen.manifest.records import Manifest
from bakegen.plan.records import Plan

TARGET_PREFIX = "target:"
_SHOWN = 3  # missing blocks named in one line


def bake_file_problems(
    m: Manifest, plan: Plan, bake_file: str, template: BakeTemplate | None
) -> list[Problem]:
    """What in the bake file `bake_file` (made through `template`, None for JSON) bake would
    refuse that bakegen can know."""
    targets = set(_model_targets(plan))
    if template is not None and not template.shipped:
        found, printed = _template_problems(plan, bake_file, template)
        if found:
            return found
        targets |= printed  # an override may add targets of its own
    return list(_context_problems(m, plan, targets))


def _model_targets(plan: Plan) -> list[str]:
    names = [COMMON, *([METADATA_TARGET] if plan.ci.metadata_action else [])]
    return [*names, *(i.target for i in plan.images), *(v.target for v in plan.verifies)]


def _template_problems(
    plan: Plan, text: str, template: BakeTemplate
) -> tuple[list[Problem], set[str]]:
    """What is wrong with the bake file an override printed, and the targets it has."""
    where = Location(template.name, 1, 1)
    try:
        blocks = top_blocks(text)
    except HclError as exc:
        line, column = position(text, exc.at)
        said = f"prints a bake file that is not HCL: at line {line}, column {column} of it, "
        printed_line = text.split("\n")[line - 1]
        return [Problem(_written_at(template, printed_line) or where, (), said + exc.why)], set()
    problems = []
    printed: dict[str, set[str]] = {"target": set(), "group": set()}
    for block in blocks:
        if block.type in printed and block.labels:
            printed[block.type].add(block.labels[0])
    for kind, wanted in (
        ("target", _model_targets(plan)),
        ("group", [g.name for g in plan.groups]),
    ):
        missing = [name for name in wanted if name not in printed[kind]]
        if missing:
            more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
            named = ", ".join(f"'{n}'" for n in missing[:_SHOWN])
            problems.append(
                Problem(
                    block_place(template, (f"{kind}s", kind)),
                    (),
                    f"prints no {kind} block {named}{more}: the bake file must hold every "
                    f"{kind} of the bake model (print them with {{{{ super() }}}} in the block "
                    f"you replace)",
                )
            )
    return problems, printed["target"]


def _written_at(template: BakeTemplate, printed: str) -> Location | None:
    """The line of the override that holds the printed line `printed` as it is, if one does."""
    wanted = printed.strip()
    for number, line in enumerate(template.source.split("\n"), start=1):
        if wanted and line.strip() == wanted:
            return Location(template.name, number, len(line) - len(line.lstrip()) + 1)
    return None


def _edges(plan: Plan) -> dict[str, set[str]]:
    """Target -> the targets it is built from (its `target:` contexts, bakegen's own)."""
    edges: dict[str, set[str]] = {i.target: {i.parent} if i.parent else set() for i in plan.images}
    for verify in plan.verifies:
        edges[verify.target] = {verify.image}
    return edges


def _context_problems(m: Manifest, plan: Plan, targets: set[str]) -> Iterator[Problem]:
    edges = _edges(plan)
    extra: list[tuple[str, str, tuple[str | int, ...]]] = []
    for built in plan.images:
        for setting in built.bake:
            value = setting.value
            if setting.attribute != "contexts" or not isinstance(value, str):
                continue
            if value.startswith(TARGET_PREFIX):
                extra.append((built.target, value[len(TARGET_PREFIX) :], setting.path))
    for image, name, path in extra:
        if name not in targets:
            yield m.problem(
                path,
                f"'{TARGET_PREFIX}{name}' names no target of the bake file"
                f"{did_you_mean(name, sorted(targets))}",
            )
        elif name == image:
            yield m.problem(
                path,
                f"'{TARGET_PREFIX}{name}' is a context of {name} itself, which bake refuses; "
                "narrow this value to the images that build from it",
            )
        else:
            edges[image].add(name)
    for image, name, path in extra:
        loop = _path(edges, name, image) if name in edges and name != image else None
        if loop:
            yield m.problem(
                path,
                f"'{TARGET_PREFIX}{name}' makes {image} built from what is built from it "
                f"({' <- '.join([image, *loop])}), which bake refuses",
            )


def _path(edges: Mapping[str, set[str]], start: str, goal: str) -> list[str] | None:
    """The targets from `start` to `goal` along `edges`, both included, if `goal` is reached."""
    came: dict[str, str | None] = {start: None}
    todo = [start]
    while todo:
        here = todo.pop()
        if here == goal:
            found = [here]
            while (back := came[found[-1]]) is not None:
                found.append(back)
            return found[::-1]
        for there in sorted(edges.get(here, ())):
            if there not in came:
                came[there] = here
                todo.append(there)
    return None
