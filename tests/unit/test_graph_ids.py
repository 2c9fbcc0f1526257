"""`bakegen graph`: one node per image, whatever the names: ids are different for different
names ('-' and '_', '.', case), groups never share an id with each other or with a node, in
mermaid and in DOT; labels hold the names as they are written, escaped."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bakegen.commands import graph
from testing.unit import manifest_data, plan_of

# Names that look alike once punctuation or case is folded.
ALIKE = ["my-app", "my_app", "my.app", "myapp", "my--app", "my-_app", "my_-app", "My-app", "MY-APP"]
ALIKE += ["myX2dXapp", "my_X5fX_app", "a", "A", "X41X", "_", "-", "", "end", "g_a_R_b", "ä", "a b"]
MERMAID_ID = re.compile(r"[A-Za-z0-9_]+")


def test_alike_names_get_different_ids_made_of_safe_characters() -> None:
    ids = [graph.node_id(name) for name in ALIKE if name]
    assert len(set(ids)) == len(ids), ids
    assert all(MERMAID_ID.fullmatch(i) for i in ids), ids
    assert graph.node_id("model-server-base-debian12-py311") == "model_server_base_debian12_py311"


@given(st.text(max_size=12), st.text(max_size=12))
def test_node_ids_are_one_per_name(first: str, second: str) -> None:
    if first != second:
        assert graph.node_id(first) != graph.node_id(second)
    assert MERMAID_ID.fullmatch(graph.node_id(first) or "x")


@given(st.tuples(st.text(max_size=6), st.text(max_size=6)), st.tuples(st.text(), st.text()))
def test_group_ids_are_one_per_group_and_never_a_node_s(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    if first != second:
        assert graph.group_id(*first) != graph.group_id(*second)
    assert graph.group_id(*first) not in {graph.node_id(n) for n in (*first, *second)}
    assert graph.group_id(*first) != graph.node_id(f"g-{first[0]}-r-{first[1]}")


def test_packages_that_differ_by_dash_and_underscore_are_two_nodes_in_both_formats() -> None:
    packages = {name: {"runtime": ["debian"]} for name in ("my-app", "my_app", "my")}
    plan = plan_of(manifest_data(packages=packages))
    images = graph.select(plan)
    targets = {i.target for i in images}
    assert {"my-app-runtime-debian12-py312", "my_app-runtime-debian12-py312"} <= targets

    text = graph.mermaid(images)
    nodes = dict(re.findall(r'^    (\S+)\["([^"]*)"\]$', text, re.MULTILINE))
    assert sorted(nodes.values()) == sorted(targets)  # one node per image, labelled by it
    groups = re.findall(r"^  subgraph (\S+)\[", text, re.MULTILINE)
    assert len(set(groups)) == len(groups) == len({(i.package, i.release_type) for i in images})
    assert not set(groups) & set(nodes)
    edges = re.findall(r"^  (\S+) --> (\S+)$", text, re.MULTILINE)
    assert sorted((nodes[a], nodes[b]) for a, b in edges) == sorted(
        (i.parent, i.target) for i in images if i.parent
    )

    dot = graph.dot(images)
    dot_nodes = dict(re.findall(r'^    "(\S+)" \[label="([^"]*)"\];$', dot, re.MULTILINE))
    assert dot_nodes == nodes
    dot_edges = re.findall(r'^  "(\S+)" -> "(\S+)";$', dot, re.MULTILINE)
    assert sorted(dot_edges) == sorted(edges)


def test_labels_are_escaped() -> None:
    assert graph._mermaid_label('a"b#c\x1b[2J') == '"a#quot;b#35;c\\x1b[2J"'
    assert graph._dot_string('a"b\\c\n') == '"a\\"b\\\\c\\\\n"'
