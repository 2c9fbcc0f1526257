"""`bakegen graph`: the image DAG (parents to children through `target:` contexts), grouped by
package and release type, as mermaid (pastes into GitHub markdown) or DOT. Node ids are
made from the names, one id per name; the names themselves are the nodes' labels."""

from __future__ import annotations

from pathlib import Path

from bakegen import graphviz
from bakegen.errors import UsageError, one_line
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
        title = _mermaid_label(f"{package} {release_type}")
        lines.append(f"  subgraph {group_id(package, release_type)}[{title}]")
        lines += [f"    {node_id(i.target)}[{_mermaid_label(i.target)}]" for i in members]
        lines.append("  end")
    lines += [f"  {node_id(i.parent)} --> {node_id(i.target)}" for i in images if i.parent]
    return "\n".join(lines) + "\n"


def dot(images: list[Image]) -> str:
    lines = ["digraph images {", "  rankdir=LR;", "  node [shape=box];"]
    for index, ((package, release_type), members) in enumerate(_groups(images).items()):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_string(f'{package} {release_type}')};")
        lines += [f'    "{node_id(i.target)}" [label={_dot_string(i.target)}];' for i in members]
        lines.append("  }")
    lines += [f'  "{node_id(i.parent)}" -> "{node_id(i.target)}";' for i in images if i.parent]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _groups(images: list[Image]) -> dict[tuple[str, str], list[Image]]:
    groups: dict[tuple[str, str], list[Image]] = {}
    for image in images:
        groups.setdefault((image.package, image.release_type), []).append(image)
    return groups


def node_id(name: str) -> str:
    """The node id of `name` (mermaid's, and DOT's in quotes), a different one for every different name: lower-case
    letters and digits as they are, '-' as '_', every other character ('_', '.', an upper-case
    letter, anything) as 'X', its code point in hex, 'X'. `my-app` is `my_app`, `my_app` is
    `myX5fXapp`, `App` is `X41Xpp`. A target name always holds a '-', so its id holds a '_' and
    is never one of mermaid's words (`end`, `graph`)."""
    return "".join(c if c in _AS_IS else "_" if c == "-" else f"X{ord(c):x}X" for c in name)


def group_id(package: str, release_type: str) -> str:
    """The mermaid id of a package's release type: `g_`, the two as node ids, `_R_` between
    (a node id never holds an 'R', so neither two groups nor a group and a node share one)."""
    return f"g_{node_id(package)}_R_{node_id(release_type)}"


_AS_IS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _mermaid_label(text: str) -> str:
    """`text` as a quoted mermaid label: control characters escaped, '#' and '"' as mermaid's
    entity codes."""
    return '"' + one_line(text).replace("#", "#35;").replace('"', "#quot;") + '"'


def _dot_string(text: str) -> str:
    """`text` as a quoted DOT string: control characters, quotes and backslashes escaped."""
    return '"' + one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
