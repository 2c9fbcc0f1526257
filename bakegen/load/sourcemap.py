"""Reading text as bakegen reads every input, and finding where a key path is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bakegen.errors import KeyPath, Location, Problem


def nearest(sources: Mapping[KeyPath, Location], path: KeyPath) -> Location | None:
    """Where `path` is written, or its nearest ancestor that is."""
    for end in range(len(path), -1, -1):
        loc = sources.get(path[:end])
        if loc is not None:
            return loc
    return None


@dataclass
class Loaded:
    """The manifest as plain data, with where every key and value came from."""

    data: dict[str, Any]
    sources: dict[KeyPath, Location] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # each file's text, by its shown name

    def where(self, path: KeyPath) -> Location | None:
        """The location of `path`, or of its nearest ancestor that has one."""
        return nearest(self.sources, path)

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.where(path), path, message)
