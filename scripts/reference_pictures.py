"""The documentation's pictures: `bakegen graph --format svg` of the starter workspace
(`bakegen init`) and of the example workspace (the repository root), committed under
docs/images/. A picture is stale when the images or FROM edges it draws differ from its
workspace's plan (not when another Graphviz would lay it out differently), so a picture is
redrawn, with Graphviz's `dot`, only when the graph changed."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bakegen.commands.graph import dot, select
from bakegen.commands.init import write_starter
from bakegen.graphviz import draw
from bakegen.pipeline import plan_workspace

ROOT = Path(__file__).resolve().parent.parent
IMAGES = Path("docs/images")

SVG = "{http://www.w3.org/2000/svg}"


def drawn(svg: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The images (each node's label: its target name) and the edges (parent, child) of a
    `dot -Tsvg` picture; edges name nodes by their DOT id, mapped back to the labels."""
    root = ET.fromstring(svg.encode("utf-8"))
    labels: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title") or ""
        if group.get("class") == "node":
            labels[title] = group.findtext(f"{SVG}text") or title
        elif group.get("class") == "edge":
            parent, _, child = title.partition("->")
            pairs.append((parent, child))
    edges = {(labels.get(a, a), labels.get(b, b)) for a, b in pairs}
    return set(labels.values()), edges


@contextmanager
def starter() -> Iterator[Path]:
    """The workspace `bakegen init` writes, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bakegen-docs-") as folder:
        write_starter(Path(folder))
        yield Path(folder)


@contextmanager
def example() -> Iterator[Path]:
    yield ROOT


@contextmanager
def notebook_family() -> Iterator[Path]:
    yield ROOT / "examples" / "notebook-family"


# Each picture (relative to the repository root) and the workspace it draws.
PICTURES: dict[Path, Callable[[], AbstractContextManager[Path]]] = {
    IMAGES / "first-workspace-graph.svg": starter,
    IMAGES / "example-graph.svg": example,
    IMAGES / "notebook-family-graph.svg": notebook_family,
}


def graph_of(workspace: Path) -> tuple[set[str], set[tuple[str, str]], str]:
    """The images and edges of `workspace`'s plan, and its DOT text."""
    plan = plan_workspace(workspace)
    images = select(plan)
    nodes = {i.target for i in images}
    edges = {(i.parent, i.target) for i in images if i.parent}
    return nodes, edges, dot(images)


def stale(root: Path = ROOT) -> dict[Path, str]:
    """The pictures that are missing or draw another graph than their workspace's plan, with
    the DOT text to draw each from."""
    found: dict[Path, str] = {}
    for rel, workspace in PICTURES.items():
        with workspace() as folder:
            nodes, edges, text = graph_of(folder)
        path = root / rel
        if not path.is_file() or drawn(path.read_text(encoding="utf-8")) != (nodes, edges):
            found[rel] = text
    return found


def redraw(rel: Path, dot_text: str, root: Path = ROOT) -> None:
    """Draw one picture with Graphviz (`dot` must be on PATH)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(draw(dot_text, "svg"))
