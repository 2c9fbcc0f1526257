"""Build arguments by axis value (`args`, at the top level and per package): each entry gives
its `values` to the images its `where` names; a later entry, and a package's, win."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bakegen.errors import KeyPath
from bakegen.manifest.image_keys import Where
from bakegen.manifest.values import Pairs


@dataclass(frozen=True)
class ArgRule:
    """One entry of `args`: build arguments for the images `where` names (every image when it
    names nothing)."""

    where: Where
    values: Pairs
    path: KeyPath

    @property
    def narrowed(self) -> bool:
        return self.where != Where()


def arg_rules(
    spec: Any, path: KeyPath, where: Callable[[Mapping[str, Any]], Where]
) -> tuple[ArgRule, ...]:
    """An `args` list as rules, `where` reading each entry's `where` mapping."""
    return tuple(
        ArgRule(
            where=where(item.get("where") or {}),
            values=tuple((str(k), str(v)) for k, v in (item.get("values") or {}).items()),
            path=(*path, index),
        )
        for index, item in enumerate(spec if isinstance(spec, list) else [])
    )
