"""LibYAML and PyYAML read every manifest to the same nodes, in all bakegen reads of them: kinds,
tags, text, scalar styles, the line and column where each node starts, and which nodes are one
(anchors); text LibYAML refuses is read by PyYAML, so its errors are PyYAML's."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode

from bakegen.load.compose import _FAST_LOADER, compose
from testing.helpers import ROOT, unavailable


@pytest.fixture(autouse=True)
def _libyaml() -> None:
    if _FAST_LOADER is None:
        unavailable("PyYAML is built without LibYAML here: pip install --force-reinstall pyyaml")


def utf8(path: Path) -> bool:
    """Whether `path` is UTF-8 text (bakegen refuses other files before reading their YAML)."""
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    return True


FILES = sorted(
    p
    for pattern in ("**/*.yml", "**/*.yaml")
    for p in ROOT.glob(pattern)
    if ".git" not in p.parts and "node_modules" not in p.parts and utf8(p)
)
# Text where the two readers could part: every kind of scalar, anchors, merge keys, flow and block
# styles, comments, CRLF line ends, a byte-order mark, characters outside ASCII before a key.
TEXTS = [
    "a: 3.10\nb: '3.10'\nc: \"x\"\nd: |\n  line\ne: >-\n  folded\nf: ~\ng:\nh: yes\n",
    "base: &b {x: 1, y: [1, 2]}\nuse:\n  <<: *b\n  z: *b\n",
    "# comment\nk: v # trailing\nlist:\n- a\n-   b\n- - c\n  - d\n",
    "a: 1\r\nb:\r\n  c: 2\r\n",
    "\ufeffa: 1\n",
    "é: ü\nkey: 'x' # 漢字\nnext: 1\n",
    "---\na: 1\n...\n---\nb: 2\n",
    "? complex\n: value\n",
    "a: !!str 1\nb: !!int '2'\n",
    "",
    "a: [1, 2\n",  # refused by both
    "a:\n\tb: 1\n",  # a tab
    "a: b: c\n",
]


def shape(node: Node | None) -> Any:
    """Everything bakegen reads from a node, anchors as the order they are first seen."""
    seen: dict[int, int] = {}

    def walk(n: Node) -> Any:
        if id(n) in seen:
            return ("same as", seen[id(n)])
        seen[id(n)] = len(seen)
        head = (type(n).__name__, n.tag, n.start_mark.line, n.start_mark.column)
        if isinstance(n, ScalarNode):
            return (*head, n.value, n.style)
        assert isinstance(n, CollectionNode)
        if isinstance(n, MappingNode):
            return (*head, [(walk(k), walk(v)) for k, v in n.value])
        return (*head, [walk(v) for v in n.value])

    return None if node is None else walk(node)


def read(text: str, loader: Any) -> Any:
    try:
        return [shape(d) for d in yaml.compose_all(text, Loader=loader)]
    except yaml.YAMLError as exc:
        return type(exc).__name__


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_repository_reads_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert read(text, _FAST_LOADER) == read(text, yaml.SafeLoader)


@pytest.mark.parametrize("text", TEXTS)
def test_every_kind_of_yaml_reads_the_same(text: str) -> None:
    python = read(text, yaml.SafeLoader)
    if isinstance(python, str):  # an error: the fast reader refuses too, then PyYAML says why
        with pytest.raises(yaml.YAMLError) as info:
            compose(text)
        assert type(info.value).__name__ == python
    else:
        assert [shape(d) for d in compose(text)] == python


def test_there_are_many_yaml_files() -> None:
    assert len(FILES) > 50


SCALARS: tuple[Callable[[random.Random], Any], ...] = (
    lambda rng: rng.choice(["3.10", "yes", "~", "1e3", "0x1F", "a: b", "- x", "#c", "é ü 漢", ""]),
    lambda rng: "".join(rng.choice("abc xyz-_./:'\"\\") for _ in range(rng.randrange(12))),
    lambda rng: rng.choice([0, -1, 3.5, 10**20, 1e-7]),
    lambda rng: rng.choice([True, False]),
    lambda _: None,
)


def random_value(rng: random.Random, depth: int) -> Any:
    """A value of a manifest's kinds: text (some outside ASCII, some looking like numbers or
    booleans), numbers, booleans, null, lists and mappings."""
    kind = rng.randrange(8 if depth < 5 else 5)
    if kind < len(SCALARS):
        return SCALARS[kind](rng)
    if kind in (5, 6):
        return {
            random_value(rng, 5) if rng.random() < 0.2 else f"k{i}": random_value(rng, depth + 1)
            for i in range(rng.randrange(4))
        }
    return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]


@pytest.mark.parametrize("seed", range(200))
def test_random_manifests_in_every_style_read_the_same(seed: int) -> None:
    rng = random.Random(seed)
    data = {f"top{i}": random_value(rng, 0) for i in range(1 + rng.randrange(4))}
    for flow in (False, True, None):
        text = yaml.safe_dump(
            data,
            default_flow_style=flow,
            allow_unicode=rng.random() < 0.5,
            width=rng.choice([20, 80]),
        )
        assert read(text, _FAST_LOADER) == read(text, yaml.SafeLoader), text
