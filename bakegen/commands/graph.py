"""`bakegen graph`: the image DAG (parents to children through `target:` contexts), grouped by
package and release type, as mermaid (pastes into GitHub markdown) or DOT."""

from __future__ import annotations

from pathlib import Path

from bakegen import graphviz
from bakegen.errors import UsageError
from bakegen.output import Streams
from bakegen.pipeline import plan_workspace
from bakegen.plan.records import Image, Plan

FORMATS = ("mermaid", "dot")


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    fmt: str = "mermaid",
    package: str | None = None,
    release_type: str | None = None,
    target: str | None = None,
) -> int:
    images = select(
        plan_workspace(ws, manifest), package=package, release_type=release_type, target=target
    )
    if not images:
        raise UsageError("no image matches those options; bakegen list shows them all")
    if fmt in graphviz.FORMATS:
        graphviz.write(graphviz.draw(dot(images), fmt), fmt)
        return 0
    io.write(mermaid(images) if fmt == "mermaid" else dot(images))
    return 0


def select(
    plan: Plan,
    *,
    package: str | None = None,
    release_type: str | None = None,
    target: str | None = None,
) -> list[Image]:
    """The images to draw: those matching the filters, with every parent they need; a target
    brings its parents and its children."""
    chosen = [
        i
        for i in plan.images
        if package in (None, i.package) and release_type in (None, i.release_type)
    ]
    if target is not None:
        family = {target}
        changed = True
        while changed:  # children, transitively
            changed = False
            for image in plan.images:
                if image.parent in family and image.target not in family:
                    family.add(image.target)
                    changed = True
        chosen = [i for i in chosen if i.target in family]
    names = {i.target for i in plan.closure(tuple(i.target for i in chosen))}
    return [i for i in plan.images if i.target in names]


def mermaid(images: list[Image]) -> str:
    lines = ["flowchart LR"]
    for (package, release_type), members in _groups(images).items():
        lines.append(
            f'  subgraph g_{_id(package + "-" + release_type)}["{package} {release_type}"]'
        )
        lines += [f'    {_id(i.target)}["{i.target}"]' for i in members]
        lines.append("  end")
    lines += [f"  {_id(i.parent)} --> {_id(i.target)}" for i in images if i.parent]
    return "\n".join(lines) + "\n"


def dot(images: list[Image]) -> str:
    lines = ["digraph images {", "  rankdir=LR;", "  node [shape=box];"]
    for index, ((package, release_type), members) in enumerate(_groups(images).items()):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label="{package} {release_type}";')
        lines += [f'    "{i.target}";' for i in members]
        lines.append("  }")
    lines += [f'  "{i.parent}" -> "{i.target}";' for i in images if i.parent]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _groups(images: list[Image]) -> dict[tuple[str, str], list[Image]]:
    groups: dict[tuple[str, str], list[Image]] = {}
    for image in images:
        groups.setdefault((image.package, image.release_type), []).append(image)
    return groups


def _id(name: str) -> str:
    """A mermaid node id: target names are letters, digits, '-' and '_' already."""
    return name.replace("-", "_")
