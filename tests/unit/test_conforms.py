"""The compiled schema check says what jsonschema says: keyword by keyword over a zoo of
values, and over every manifest of the repository and thousands of mutations of them."""

from __future__ import annotations

import copy
import datetime
import json
import random
from pathlib import Path
from typing import Any

import pytest

from bakegen.errors import ManifestError
from bakegen.load.merge import load
from bakegen.schema import conforms
from bakegen.schema.document import _conforms, _validator, regex, validator_class

ROOT = Path(__file__).resolve().parents[2]

# Every kind of value YAML gives, with the edge cases of JSON's types.
ZOO: list[object] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    1.0,
    1.5,
    0.5,
    float("nan"),
    float("inf"),
    "",
    "a",
    "a\n",
    "\n",
    "1",
    "registry",
    "PYTHON_VERSION",
    "linux/amd64",
    "3.12",
    "12.4.1",
    "debian",
    [],
    [1],
    ["a"],
    [None],
    ["a", "b"],
    [[]],
    {},
    {"a": 1},
    {1: "a"},
    {None: "a"},
    {True: 1},
    {"type": "registry"},
    {"type": "local", "ref": "x"},
    datetime.date(2024, 1, 1),
    b"bytes",
]

# Small schemas using each keyword the check knows, in each form.
SCHEMAS: list[object] = [
    True,
    False,
    {},
    *({"type": t} for t in conforms.TYPES),
    {"type": ["string", "number", "null"]},
    {"type": ["object", "null"]},
    {"enum": ["a", "registry", "1"]},
    {"const": "a"},
    {"pattern": "^[a-z]+$"},
    {"pattern": "a"},
    {"type": ["string", "number"], "pattern": "^[0-9.]+$"},
    {"minLength": 1},
    {"minItems": 1},
    {"minItems": 2},
    {"minProperties": 1},
    {"minimum": 1},
    {"minimum": 0.5},
    {"required": ["a"]},
    {"required": ["type", "ref"]},
    {"properties": {"a": {"type": "integer"}}},
    {"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    {"additionalProperties": {"type": "string"}},
    {"additionalProperties": False},
    {"patternProperties": {"^a": {"type": "string"}}},
    {"patternProperties": {"^x-": True, "y": {"type": "integer"}}, "additionalProperties": False},
    {
        "properties": {"a": {"type": "integer"}},
        "patternProperties": {"^[ab]$": {"minimum": 1}},
        "additionalProperties": {"type": "string"},
    },
    {"propertyNames": {"pattern": "^[a-z]+$"}},
    {"propertyNames": {"not": {"enum": ["type"]}}},
    {"items": {"type": "string"}},
    {"items": False},
    {"allOf": [{"type": "string"}, {"minLength": 1}]},
    {"anyOf": [{"type": "string"}, {"type": "array"}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"oneOf": [{"type": "string"}, {"const": "a"}]},
    {"not": {"type": "null"}},
    {"if": {"type": "string"}, "then": {"minLength": 2}},
    {"if": {"type": "string"}, "else": {"type": "null"}},
    {"if": {"required": ["type"]}, "then": {"required": ["ref"]}, "else": {"type": "null"}},
    {"then": {"type": "null"}},  # no `if`: ignored
    {"$ref": "#/$defs/word", "$defs": {"word": {"type": "string", "pattern": "^[a-z]+$"}}},
    {
        "$defs": {"tree": {"type": ["string", "array"], "items": {"$ref": "#/$defs/tree"}}},
        "$ref": "#/$defs/tree",
    },
    {"description": "x", "title": "y", "x-messages": {"type": "z"}, "type": "string"},
]


def jsonschema_says(schema_: object, value: object) -> bool:
    return is_valid(validator_class()(schema_), value)


def is_valid(validator: Any, value: object) -> bool:
    """jsonschema's verdict; where it cannot match a pattern of `patternProperties` against a
    key that is no string, the verdict with that mapping's keys as text (a key that is no
    string matches no pattern, and YAML's keys reach the schema as text)."""
    try:
        return bool(validator.is_valid(value))
    except TypeError:
        assert isinstance(value, dict)
        return bool(validator.is_valid({str(k): v for k, v in value.items()}))


@pytest.mark.parametrize("schema_", SCHEMAS, ids=lambda s: json.dumps(s)[:60])
def test_each_keyword_agrees_with_jsonschema(schema_: dict[str, object] | bool) -> None:
    check = conforms.compile_schema(schema_, regex)
    for value in [*ZOO, *([v] for v in ZOO), *({"a": v} for v in ZOO), *({"type": v} for v in ZOO)]:
        assert check(value) == jsonschema_says(schema_, value), (schema_, value)


@pytest.mark.parametrize(
    "schema_",
    [
        {"uniqueItems": True},
        {"dependentRequired": {"a": ["b"]}},
        {"enum": [1, True]},  # JSON's equality of numbers is not Python's: refused, not guessed
        {"const": None},
        {"type": "any"},
        {"items": [{"type": "string"}]},
        {"$ref": "https://example.com/other.json"},
        {"$ref": "#/$defs/missing"},
        {"$ref": "#/$defs/a~1b", "$defs": {"a/b": {}}},
        {"$ref": "#/$defs/a%20b", "$defs": {"a b": {}}},
        {"properties": {"a": {"$id": "other.json", "$ref": "#/$defs/x"}}, "$defs": {"x": {}}},
        {"minimum": "1"},
        {"anyOf": []},
        {"format": "date"},
    ],
    ids=json.dumps,
)
def test_a_keyword_it_does_not_know_is_refused(schema_: dict[str, object]) -> None:
    with pytest.raises(conforms.Unsupported):
        conforms.compile_schema(schema_, regex)


def test_the_manifest_schema_compiles() -> None:
    assert _conforms() is not None


def manifests() -> list[tuple[str, Any]]:
    """Every manifest of the repository that loads (valid ones and the corpus's bad ones)."""
    paths = [
        *sorted(ROOT.glob("tests/corpus/*.yml")),
        *sorted(ROOT.glob("tests/corpus/*/manifest")),
        *sorted(ROOT.glob("tests/workspaces/*/manifest")),
        *sorted(ROOT.glob("examples/*/manifest")),
        ROOT / "manifest",
        ROOT / "bakegen" / "resources" / "init" / "manifest",
    ]
    found = []
    for path in paths:
        try:
            found.append((str(path.relative_to(ROOT)), load(path, path.parent).data))
        except ManifestError:
            continue  # not YAML, or not a mapping: never reaches the schema
    return found


MANIFESTS = manifests()


def test_the_repository_manifests_agree() -> None:
    validator = _validator()
    check = _conforms()
    assert check is not None
    verdicts = {name: check(data) for name, data in MANIFESTS}
    for name, data in MANIFESTS:
        assert verdicts[name] == validator.is_valid(data), name
    assert len(MANIFESTS) > 50
    assert sum(verdicts.values()) > 5  # both verdicts are covered
    assert sum(not v for v in verdicts.values()) > 20


def nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(nodes(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nodes(item, (*path, index)))
    return found


def mutate(document: Any, rng: random.Random, texts: list[str]) -> Any:
    """One change somewhere in a copy of `document`: a value replaced (by a zoo value, a text
    seen in some manifest, or another part of the document), a key removed, renamed or added."""
    document = copy.deepcopy(document)
    path, node = rng.choice(nodes(document))
    parent_path, key = path[:-1], path[-1] if path else None
    parent = document
    for step in parent_path:
        parent = parent[step]
    choice = rng.random()
    if choice < 0.3:
        new: Any = rng.choice(ZOO)
    elif choice < 0.5:
        new = rng.choice(texts)
    else:
        new = copy.deepcopy(rng.choice(nodes(document))[1])
    if key is None:  # the whole document
        if isinstance(document, dict) and rng.random() < 0.8:
            return {**document, rng.choice(texts): new}
        return new
    if isinstance(parent, dict) and rng.random() < 0.35:
        if rng.random() < 0.5:
            del parent[key]
        else:
            value = parent.pop(key)
            parent[rng.choice([*texts, 1, None, key + "x" if isinstance(key, str) else 0])] = value
        return document
    if isinstance(node, dict) and rng.random() < 0.2:
        node[rng.choice(texts)] = new
        return document
    parent[key] = new
    return document


def test_mutated_manifests_agree() -> None:
    validator = _validator()
    check = _conforms()
    assert check is not None
    texts = sorted(
        {v for _, d in MANIFESTS for _, v in nodes(d) if isinstance(v, str) and len(v) < 80}
        | {k for _, d in MANIFESTS for p, _ in nodes(d) for k in p if isinstance(k, str)}
    )
    rng = random.Random(20261202)
    agreed = {True: 0, False: 0}
    for round_ in range(3000):
        name, document = rng.choice(MANIFESTS)
        for _ in range(rng.choice([1, 1, 2, 3])):
            document = mutate(document, rng, texts)
        verdict = check(document)
        assert verdict == is_valid(validator, document), (round_, name, document)
        agreed[verdict] += 1
    assert min(agreed.values()) > 300, agreed
