"""Load stage: YAML files into plain data plus a source map (key path -> file:line:col).

Rules that make the manifest format safe to read:
- mapping keys keep their text (`3.10:` is the key "3.10", never the float 3.1);
- plain numbers (and dates) in values are kept as text too: every number in a manifest is a
  version, except the counts named in INTEGER_KEYS;
- a key repeated in one mapping is an error (checked before `<<:` merges: overriding a merged key
  is the point of a merge);
- a key's place in the source map is where the key that wins is written: in the mapping itself,
  else in the anchor a `<<:` merges it from (the earliest of `<<: [*a, *b]`), through merges
  inside anchors too; only winning values are read, so no place points into an overridden one;
- sequences nested in sequences (list aliases inside lists) flatten;
- a manifest directory is its *.yml / *.yaml regular files merged in name order, hidden files
  (`.old.yml`, macOS `._m.yml`) left out; a key defined in two files is an error naming both places;
- empty documents (a trailing `---`, only comments) are ignored; two documents with content are not;
- every YAML error is one line at its place, in plain words.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from bakegen.errors import KeyPath, Location, ManifestError, Problem
from bakegen.load.sourcemap import Loaded
from bakegen.load.yaml_errors import forbidden_character, nearest_key_path, syntax_message
from bakegen.sources import NotAFile, Sources, TooLarge, decode_utf8

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
TOO_MANY_VALUES = (
    f"more than {MAX_NODES} values once aliases are expanded; is an alias used too often?"
)
YAML = "tag:yaml.org,2002:"
MERGE_TAG = YAML + "merge"
MAP_TAG = YAML + "map"
SEQ_TAG = YAML + "seq"
# Plain scalars that YAML would read as numbers or dates are kept as their text: versions.
TEXT_TAGS = {YAML + "int", YAML + "float", YAML + "timestamp"}
SCALAR_TAGS = {*TEXT_TAGS, YAML + "str", YAML + "bool", YAML + "null"}
# The few keys whose values are counts, not versions: their plain integers stay integers.
INTEGER_KEYS: set[KeyPath] = {
    ("max_targets",),
    *(("workflow", "timeouts", kind) for kind in ("check", "build", "merge", "smoke")),
}


class _Builder:
    """Turns one composed YAML node tree into data, recording locations and problems."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.sources: dict[KeyPath, Location] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.open: list[Node] = []
        self._scalars = yaml.SafeLoader("")

    def loc(self, node: Node) -> Location:
        mark = node.start_mark
        return Location(self.display, mark.line + 1, mark.column + 1)

    def _limits(self, node: Node, path: KeyPath, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ManifestError(
                [Problem(self.loc(node), path, f"nested more than {MAX_DEPTH} levels deep")]
            )
        if self.nodes > MAX_NODES:
            raise ManifestError([Problem(self.loc(node), path, TOO_MANY_VALUES)])

    def build(self, node: Node, path: KeyPath, depth: int = 0) -> Any:
        self.nodes += 1
        self._limits(node, path, depth)
        self.sources.setdefault(path, self.loc(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self._enter(node, path)
        try:
            if isinstance(node, MappingNode):
                self._check_tag(node, path, MAP_TAG)
                return self._mapping(node, path, depth)
            assert isinstance(node, SequenceNode)
            self._check_tag(node, path, SEQ_TAG)
            return self._sequence(node, path, depth)
        finally:
            self.open.pop()

    def _enter(self, node: Node, path: KeyPath, where: Node | None = None) -> None:
        """Note that `node` is being built; an alias back to a node being built is a cycle."""
        if any(node is other for other in self.open):
            raise ManifestError(
                [
                    Problem(
                        self.loc(where or node),
                        path,
                        "an alias refers to a mapping or list holding it",
                    )
                ]
            )
        self.open.append(node)

    def _check_tag(self, node: Node, path: KeyPath, *allowed: str) -> bool:
        if node.tag in allowed:
            return True
        tag = "!!" + node.tag[len(YAML) :] if node.tag.startswith(YAML) else node.tag
        self.problems.append(
            Problem(
                self.loc(node),
                path,
                f"YAML tag '{tag}' is not supported here; write a plain string, list or mapping",
            )
        )
        return False

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        if not self._check_tag(node, path, *SCALAR_TAGS):
            return None
        if node.tag in TEXT_TAGS and node.style is None and path not in INTEGER_KEYS:
            return node.value
        try:
            return self._scalars.construct_object(node, deep=True)
        except Exception:  # an explicit tag the text does not fit: `!!int "x"`, `!!bool "maybe"`
            tag = "!!" + node.tag[len(YAML) :]
            self.problems.append(
                Problem(self.loc(node), path, f"{node.value!r} cannot be read as {tag}")
            )
            return None

    def _sequence(self, node: SequenceNode, path: KeyPath, depth: int) -> list[Any]:
        items: list[Any] = []
        for child in self._flatten(node, path):
            index = len(items)
            items.append(self.build(child, (*path, index), depth + 1))
        return items

    def _flatten(self, node: SequenceNode, path: KeyPath) -> list[Node]:
        """The items of `node`, with lists nested in it (list aliases) spliced in."""
        out: list[Node] = []
        open_lists = [node]
        stack: list[tuple[list[Node], int]] = [(node.value, 0)]
        while stack:
            items, index = stack.pop()
            if index >= len(items):
                open_lists.pop()
                continue
            stack.append((items, index + 1))
            child = items[index]
            if isinstance(child, SequenceNode):
                if any(child is seen for seen in (*open_lists, *self.open)):
                    raise ManifestError(
                        [Problem(self.loc(child), path, "an alias refers to a list holding it")]
                    )
                self._check_tag(child, path, SEQ_TAG)
                self._limits(child, path, len(open_lists))
                open_lists.append(child)
                stack.append((child.value, 0))
            else:
                out.append(child)
                if self.nodes + len(out) > MAX_NODES:
                    raise ManifestError([Problem(self.loc(node), path, TOO_MANY_VALUES)])
        return out

    def _mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        """The mapping's data; each key's place is where the key that wins is written: in the
        mapping itself, or in the anchor a `<<:` merges it from. Only the winning values are
        built, so nothing under a key points into a value it overrides."""
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in self._entries(node, path, depth).items():
            self.sources[(*path, key)] = self.loc(key_node)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _entries(
        self, node: MappingNode, path: KeyPath, depth: int
    ) -> dict[str, tuple[Node, Node]]:
        """The keys of `node` with the key and value nodes that give them: merged mappings
        first, the earliest winning, merges inside them resolved alike; then the mapping's own
        keys override them."""
        self.nodes += len(node.value)
        self._limits(node, path, depth)
        own, merges = self._own_keys(node, path)
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, source in reversed(merges):
            for merged in reversed(self._merge_sources(source, path)):
                self._enter(merged, path, key_node)
                try:
                    entries.update(self._entries(merged, path, depth + 1))
                finally:
                    self.open.pop()
        entries.update(own)
        return entries

    def _own_keys(
        self, node: MappingNode, path: KeyPath
    ) -> tuple[dict[str, tuple[Node, Node]], list[tuple[Node, Node]]]:
        """The keys written in `node` itself (a repeated one is a problem) and its merges."""
        own: dict[str, tuple[Node, Node]] = {}
        merges: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append((key_node, value_node))
            elif not isinstance(key_node, ScalarNode):
                self.problems.append(
                    Problem(self.loc(key_node), path, "a mapping key must be a plain string")
                )
            elif key_node.value in own:
                first = self.loc(own[key_node.value][0])
                self.problems.append(
                    Problem(
                        self.loc(key_node),
                        (*path, key_node.value),
                        f"key repeated in one mapping (first at {first}); remove one of them",
                    )
                )
            else:
                own[key_node.value] = (key_node, value_node)
        return own, merges

    def _merge_sources(self, node: Node, path: KeyPath) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return [n for n in node.value if isinstance(n, MappingNode)]
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        self.problems.append(
            Problem(self.loc(node), path, "`<<:` must merge a mapping or a list of mappings")
        )
        return []


def _read_text(path: Path, display: str, sources: Sources) -> str:
    def refuse(message: str) -> ManifestError:
        return ManifestError([Problem(Location(display, 1, 1), (), message)])

    try:
        raw = sources.read(path, MAX_FILE_BYTES)
    except NotAFile:  # a FIFO would block, /dev/zero never end
        raise refuse("not a regular file; a manifest is a YAML file") from None
    except TooLarge as exc:
        if exc.size is None:  # it grew while being read
            raise refuse(
                f"file is over {MAX_FILE_BYTES} bytes; manifests that large are refused"
            ) from None
        raise refuse(
            f"file is {exc.size} bytes; manifests larger than {MAX_FILE_BYTES} are refused"
        ) from None
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror}") from None
    text = decode_utf8(raw)
    if isinstance(text, tuple):
        raise ManifestError([Problem(Location(display, *text), (), "file is not UTF-8 text")])
    return text


def _empty_document(node: Node | None) -> bool:
    """A document with nothing in it: a stray `---` or `...`, or only comments."""
    return node is None or (
        isinstance(node, ScalarNode)
        and node.tag == YAML + "null"
        and node.value == ""
        and node.style is None
    )


def _libyaml_loader() -> type | None:
    """A loader reading events with LibYAML (ten times faster than PyYAML's scanner) and
    composing them with PyYAML's own composer (so deep nesting is a RecursionError, as without
    LibYAML, never a crash); None when PyYAML was built without LibYAML."""
    parser = getattr(getattr(yaml, "_yaml", None), "CParser", None)
    if parser is None:
        return None

    class Loader(parser, Composer, SafeConstructor, Resolver):  # type: ignore[misc,valid-type]
        get_node = Composer.get_node
        check_node = Composer.check_node
        get_single_node = Composer.get_single_node

        def compose_scalar_node(self, anchor: Any) -> ScalarNode:
            node: ScalarNode = Composer.compose_scalar_node(self, anchor)
            node.style = node.style or None  # LibYAML's plain style is '', PyYAML's None
            return node

        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)  # type: ignore[misc]
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return Loader


_FAST_LOADER = _libyaml_loader()


def compose(text: str) -> list[Node]:
    """The YAML documents of `text` as nodes. LibYAML reads them when PyYAML has it; text it
    refuses, or holding a character PyYAML's own reader refuses, is read by PyYAML, whose errors
    say what is wrong in the words this module explains. Both give the same nodes, marks
    included (tests/unit/test_compose.py)."""
    if _FAST_LOADER is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        with contextlib.suppress(yaml.YAMLError):
            return list(yaml.compose_all(text, Loader=_FAST_LOADER))
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def load_file(path: Path, display: str, sources: Sources | None = None) -> Loaded:
    """Load one YAML file holding one document that is a mapping, read through `sources` (a
    reader of its own when none is given)."""
    text = _read_text(path, display, sources or Sources())
    try:
        documents = compose(text)
    except yaml.reader.ReaderError as exc:  # a character YAML forbids; `position` counts characters
        raise ManifestError([forbidden_character(text, exc, display)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display, 1, 1)
        raise ManifestError(
            [Problem(loc, nearest_key_path(text, loc.line), syntax_message(exc))]
        ) from None
    except yaml.YAMLError:
        raise ManifestError(
            [Problem(Location(display, 1, 1), (), "YAML error: the file cannot be read as YAML")]
        ) from None
    except RecursionError:
        raise ManifestError(
            [Problem(Location(display, 1, 1), (), "manifest is nested too deeply")]
        ) from None
    documents = [d for d in documents if not _empty_document(d)]
    if not documents:
        raise ManifestError(
            [Problem(Location(display, 1, 1), (), "file is empty; a manifest is a YAML mapping")]
        )
    if len(documents) > 1:
        loc = _Builder(display).loc(documents[1])
        raise ManifestError(
            [Problem(loc, (), "one YAML document per file; split the others into their own files")]
        )
    builder = _Builder(display)
    root = documents[0]
    if not isinstance(root, MappingNode):
        raise ManifestError(
            [Problem(builder.loc(root), (), "the manifest must be a mapping of keys to values")]
        )
    data = builder.build(root, ())
    if builder.problems:
        raise ManifestError(builder.problems)
    return Loaded(data=data, sources=builder.sources, files=[display], texts={display: text})
