"""The manifest's JSON Schema, its defaults, and schema errors as one-line problems.

Every format rule that JSON Schema can express lives in `resources/manifest.schema.json`, so
`bakegen schema` gives editors and `check-jsonschema` the CLI's verdicts. A subschema's
`x-messages` maps a keyword to the message printed when that keyword fails (`{value}` is the
value); keywords without one get a plain description of what was expected.

Patterns follow JSON Schema's (ECMA 262) reading: `$` matches only at the very end, so a value
with a trailing newline never passes for a plain name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bakegen.errors import KeyPath, Problem, did_you_mean
from bakegen.load.sourcemap import Loaded
from bakegen.schema.document import _conforms, _validator, manifest_schema

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


# Keywords that judge a value's text or count, not the manifest's shape: a manifest breaking
# only these can still be read into the typed model, so its other problems are told at once.
FORMAT_KEYWORDS = frozenset({"pattern", "minItems", "minimum", "not", "oneOf"})


def schema_problems(loaded: Loaded) -> tuple[list[Problem], bool]:
    """Every place where the manifest breaks the schema, one problem each; and whether the
    manifest's shape is sound (every problem is about the format of a value).

    A document the compiled check passes is valid without importing jsonschema, which is asked
    only to say what is wrong."""
    check = _conforms()
    if check is not None and check(loaded.data):
        return [], True
    problems: list[Problem] = []
    sound = True
    for error in _validator().iter_errors(loaded.data):
        problems.extend(_problems(loaded, error))
        sound = sound and _format_only(error)
    return _first_causes(loaded, problems), sound


def _first_causes(loaded: Loaded, problems: list[Problem]) -> list[Problem]:
    """A key left empty because the lines meant to be under it sit at its own level (one
    level too little indentation) is told once, with that cause; the problems of the lines
    that moved are left out, being the same mistake."""
    out: list[Problem] = []
    hidden: list[tuple[str, int, int]] = []  # (file, first line, last line) of moved blocks
    for problem in sorted(problems, key=lambda p: p.sort_key()):
        loc = problem.location
        if loc and any(f == loc.file and a <= loc.line <= b for f, a, b in hidden):
            continue
        block = (
            _dedented_block(loaded, problem) if problem.message.startswith("null is not") else None
        )
        if block and loc:
            hidden.append((loc.file, loc.line + 1, block))
            out.append(
                Problem(
                    loc,
                    problem.path,
                    f"{problem.message}: the lines after it are at its own level, not under it "
                    "(indented one level too little?)",
                )
            )
        else:
            out.append(problem)
    return out


def _dedented_block(loaded: Loaded, problem: Problem) -> int | None:
    """The last line of the block right after an empty key that sits at the key's own level,
    or None when the next line is not such a block."""
    loc = problem.location
    text = loaded.texts.get(loc.file) if loc else None
    if loc is None or text is None:
        return None
    lines = text.split("\n")
    indent = loc.column - 1
    last = None
    for number in range(loc.line + 1, len(lines) + 1):
        line = lines[number - 1]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        own = len(line) - len(line.lstrip(" "))
        if last is None:
            if own != indent or line.lstrip().startswith("- "):
                return None
            last = number
            continue
        if own <= indent:
            break
        last = number
    return last


def _format_only(error: ValidationError) -> bool:
    if error.validator == "anyOf":
        branch = _matching_branch(error)
        return branch is not None and all(_format_only(e) for e in branch)
    return str(error.validator) in FORMAT_KEYWORDS


def _problems(loaded: Loaded, error: ValidationError) -> Iterator[Problem]:
    path: KeyPath = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path = (*path, str(error.instance))
    message = _custom(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if message is not None:
        yield loaded.problem(path, message)
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        for key in sorted(error.instance):
            if key not in allowed and not any(p.search(str(key)) for p in patterns):
                yield loaded.problem(
                    (*path, key), f"unknown key '{key}'{did_you_mean(key, allowed)}"
                )
    elif error.validator == "required":
        yield loaded.problem(path, error.message.replace("'", "`", 2))
    elif error.validator == "anyOf" and _matching_branch(error) is not None:
        # The value has the right kind for one branch: that branch's own errors say why.
        for sub in _matching_branch(error) or []:
            yield from _problems(loaded, sub)
    elif error.validator in ("type", "anyOf"):
        yield loaded.problem(path, f"{_describe(error.instance)} is not {_expected(error)}")
    else:
        yield loaded.problem(path, error.message)


def _custom(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    template = schema.get("x-messages", {}).get(str(error.validator))
    if template is None:
        return None
    return str(template).replace("{value}", str(error.instance))


def _matching_branch(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the one anyOf branch whose type fits the value, if exactly one fits."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    fitting = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _describe(value: Any) -> str:
    kind = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
    return kind if value is None or isinstance(value, (dict, list)) else f"{kind} {value!r}"


def _expected(error: ValidationError) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "boolean": "a boolean",
        "integer": "an integer",
        "number": "a number",
        "null": "empty",
    }
    if error.validator == "anyOf":
        schema = error.schema if isinstance(error.schema, dict) else {}
        kinds = [_kind(s) for s in schema.get("anyOf", [])]
    else:
        kinds = [error.validator_value]
    flat: list[str] = []
    for kind in kinds:
        for k in kind if isinstance(kind, list) else [str(kind)]:
            if k != "number" and k not in flat:  # numbers are read as text: never suggest one
                flat.append(k)
    return " or ".join(words.get(k, k) for k in flat)


def _kind(schema: dict[str, Any]) -> Any:
    if "type" in schema:
        return schema["type"]
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return _kind(manifest_schema()["$defs"][ref.removeprefix("#/$defs/")])
    return "value"
