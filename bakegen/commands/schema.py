"""`bakegen schema`: the manifest's JSON Schema (for editors and check-jsonschema)."""

from __future__ import annotations

from bakegen.output import Streams
from bakegen.resources import resource_text
from bakegen.schema.document import SCHEMA


def run(io: Streams) -> int:
    io.write(resource_text(SCHEMA))
    return 0
