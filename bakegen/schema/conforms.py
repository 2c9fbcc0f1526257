"""Whether a document conforms to the manifest schema, without jsonschema: the schema compiled
once into nested Python checks that answer yes or no.

Most manifests are valid, and importing jsonschema costs more than a whole render of a small
workspace; so a manifest is first asked this, and jsonschema runs only on a manifest found
invalid, to say why (`schema.schema_problems`). A check says exactly what Draft 2020-12 says
for the keywords it knows (the differential tests compare them with jsonschema value by
value); a schema using any other keyword is refused (`Unsupported`), and then every manifest
goes to jsonschema.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never change a verdict: annotations, and the containers read through `$ref`.
IGNORED = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)
# Keywords read with another: `then`/`else` with `if`, the two property keywords together.
READ_WITH_OTHERS = frozenset(
    {"then", "else", "properties", "patternProperties", "additionalProperties"}
)
# Messages of this project's schema, keyed by keyword (see `schema`): not a keyword.
EXTENSION_PREFIX = "x-"


class Unsupported(Exception):
    """The schema uses a keyword (or a form of one) these checks do not implement."""


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


TYPES: dict[str, Check] = {
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "null": lambda v: v is None,
    "number": _is_number,
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
}


def compile_schema(
    schema: Mapping[str, Any] | bool, regex: Callable[[str], re.Pattern[str]]
) -> Check:
    """The check of `schema` (a root with its `$defs`); `regex(p)` compiles the pattern `p`
    (in the caller's reading of JSON Schema's patterns; a string matches where it is found)."""
    return _Compiler(schema if isinstance(schema, Mapping) else {}, regex).compile(schema)


class _Compiler:
    def __init__(self, root: Mapping[str, Any], regex: Callable[[str], re.Pattern[str]]) -> None:
        self.root = root
        self.regex = regex
        self.refs: dict[str, Check] = {}

    def compile(self, schema: object) -> Check:
        if schema is True:
            return lambda _v: True
        if schema is False:
            return lambda _v: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"a schema that is neither an object nor a boolean: {schema!r}")
        if "$id" in schema and schema is not self.root:
            raise Unsupported("an `$id` below the root (references would resolve elsewhere)")
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in IGNORED or keyword.startswith(EXTENSION_PREFIX):
                continue
            if keyword in READ_WITH_OTHERS:
                continue
            build = KEYWORDS.get(keyword)
            if build is None:
                raise Unsupported(f"the keyword {keyword!r}")
            checks.append(build(self, value, schema))
        if READ_WITH_OTHERS.intersection(schema) - {"then", "else"}:
            checks.append(self._properties(schema))
        return _all(checks)

    def ref(self, ref: object) -> Check:
        if (
            not isinstance(ref, str)
            or not ref.startswith("#/$defs/")
            or ref.count("/") != 2
            or any(c in ref for c in "~%")  # escaped in a JSON pointer
        ):
            raise Unsupported(f"the reference {ref!r}")
        name = ref.removeprefix("#/$defs/")
        defs = self.root.get("$defs", {})
        if name not in defs:
            raise Unsupported(f"the reference {ref!r} to nothing")
        if name not in self.refs:
            compiled: list[Check] = []  # filled below: a definition may refer to itself
            self.refs[name] = lambda v: compiled[0](v)  # noqa: PLW0108 (read when called)
            compiled.append(self.compile(defs[name]))
        return self.refs[name]

    def _properties(self, schema: Mapping[str, Any]) -> Check:
        named = {k: self.compile(s) for k, s in schema.get("properties", {}).items()}
        patterns = [
            (re.compile(p), self.compile(s)) for p, s in schema.get("patternProperties", {}).items()
        ]
        extra = schema.get("additionalProperties", True)
        other = None if extra is True else self.compile(extra)

        def check(value: object) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                hits = [c for p, c in patterns if isinstance(key, str) and p.search(key)]
                if key in named and not named[key](item):
                    return False
                if not all(c(item) for c in hits):
                    return False
                if key not in named and not hits and other is not None and not other(item):
                    return False
            return True

        return check


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda _v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _type(_c: _Compiler, names: object, _schema: Mapping[str, Any]) -> Check:
    wanted = [names] if isinstance(names, str) else names
    if not isinstance(wanted, list) or any(n not in TYPES for n in wanted):
        raise Unsupported(f"the type {names!r}")
    tests = [TYPES[n] for n in wanted]
    return lambda v: any(t(v) for t in tests)


def _texts(values: object) -> frozenset[str]:
    """The texts of an `enum` or a `const`: only texts are supported, which equal exactly the
    same text and nothing else (JSON's equality of numbers and booleans is not Python's)."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Unsupported(f"the values {values!r}")
    return frozenset(values)


def _enum(_c: _Compiler, values: object, _schema: Mapping[str, Any]) -> Check:
    texts = _texts(values)
    return lambda v: isinstance(v, str) and v in texts


def _const(c: _Compiler, value: object, schema: Mapping[str, Any]) -> Check:
    return _enum(c, [value], schema)


def _pattern(c: _Compiler, pattern: object, _schema: Mapping[str, Any]) -> Check:
    if not isinstance(pattern, str):
        raise Unsupported(f"the pattern {pattern!r}")
    regex = c.regex

    def check(v: Any) -> bool:  # the pattern is compiled on first use: most are never needed
        return not isinstance(v, str) or regex(pattern).search(v) is not None

    return check


def _bound(test: Callable[[Any], bool], size: Callable[[Any], Any]) -> Callable[..., Check]:
    """A keyword bounding from below the size of the values `test` accepts."""

    def build(_c: _Compiler, least: object, _schema: Mapping[str, Any]) -> Check:
        if not _is_number(least):
            raise Unsupported(f"the bound {least!r}")
        return lambda v: not test(v) or not size(v) < least  # NaN is never below

    return build


def _required(_c: _Compiler, names: object, _schema: Mapping[str, Any]) -> Check:
    if not isinstance(names, list):
        raise Unsupported(f"required {names!r}")
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _property_names(c: _Compiler, schema: object, _schema: Mapping[str, Any]) -> Check:
    each = c.compile(schema)
    return lambda v: not isinstance(v, dict) or all(each(k) for k in v)


def _items(c: _Compiler, schema: object, _schema: Mapping[str, Any]) -> Check:
    each = c.compile(schema)
    return lambda v: not isinstance(v, list) or all(each(i) for i in v)


def _subschemas(c: _Compiler, schemas: object) -> list[Check]:
    if not isinstance(schemas, list) or not schemas:
        raise Unsupported(f"a list of schemas {schemas!r}")
    return [c.compile(s) for s in schemas]


def _all_of(c: _Compiler, schemas: object, _schema: Mapping[str, Any]) -> Check:
    return _all(_subschemas(c, schemas))


def _any_of(c: _Compiler, schemas: object, _schema: Mapping[str, Any]) -> Check:
    checks = _subschemas(c, schemas)
    return lambda v: any(check(v) for check in checks)


def _one_of(c: _Compiler, schemas: object, _schema: Mapping[str, Any]) -> Check:
    checks = _subschemas(c, schemas)
    return lambda v: sum(1 for check in checks if check(v)) == 1


def _not(c: _Compiler, schema: object, _schema: Mapping[str, Any]) -> Check:
    check = c.compile(schema)
    return lambda v: not check(v)


def _if(c: _Compiler, schema: object, parent: Mapping[str, Any]) -> Check:
    condition = c.compile(schema)
    then = c.compile(parent.get("then", True))
    otherwise = c.compile(parent.get("else", True))
    return lambda v: then(v) if condition(v) else otherwise(v)


def _ref(c: _Compiler, ref: object, _schema: Mapping[str, Any]) -> Check:
    return c.ref(ref)


KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minLength": _bound(TYPES["string"], len),
    "minItems": _bound(TYPES["array"], len),
    "minProperties": _bound(TYPES["object"], len),
    "minimum": _bound(_is_number, lambda v: v),
    "required": _required,
    "propertyNames": _property_names,
    "items": _items,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
    "$ref": _ref,
}
