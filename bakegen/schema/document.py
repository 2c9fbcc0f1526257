"""The manifest's JSON Schema and its defaults, and the validator built from them."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from bakegen.resources import resource_text
from bakegen.schema import conforms

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


SCHEMA = "manifest.schema.json"


@functools.cache
def manifest_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resource_text(SCHEMA))
    return schema


@functools.cache
def defaults() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(resource_text("defaults.yaml"))
    return data


@functools.cache
def regex(pattern: str) -> re.Pattern[str]:
    # ECMA 262 without the multiline flag: `$` is the end of the text, not before a last newline.
    return re.compile(re.sub(r"(?<!\\)\$(?=\)*$)", r"\\Z", pattern))


@functools.cache
def _conforms() -> conforms.Check | None:
    """The schema's yes-or-no check, or None where the schema uses a keyword it lacks."""
    try:
        return conforms.compile_schema(manifest_schema(), regex)
    except conforms.Unsupported:
        return None


@functools.cache
def validator_class() -> Any:
    """jsonschema's Draft 2020-12 validator with this project's reading of patterns
    (jsonschema is imported only to validate)."""
    import jsonschema
    from jsonschema import validators
    from jsonschema.exceptions import ValidationError

    def pattern(
        _validator: Any, pattern: str, instance: Any, _schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        if isinstance(instance, str) and not regex(pattern).search(instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": pattern}
    )


@functools.cache
def _validator() -> Any:
    """The manifest schema's validator."""
    return validator_class()(manifest_schema())
