"""What a Graphviz SVG of `bakegen graph` draws: its nodes (target names) and its edges
(parent, child), read from the <title> of each node and edge group `dot` writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def drawn(svg: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The node names and the edges of a `dot -Tsvg` picture."""
    root = ET.fromstring(svg.encode("utf-8"))
    nodes: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title") or ""
        if group.get("class") == "node":
            nodes.add(title)
        elif group.get("class") == "edge":
            parent, _, child = title.partition("->")
            edges.add((parent, child))
    return nodes, edges
