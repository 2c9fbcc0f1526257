"""Values as this buildx's `bake --print` shows them (it may escape `${` and `%{`)."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

from testing.helpers import bake_print


@functools.cache
def print_escapes() -> bool:
    """Whether this buildx's --print writes label values escaped so that its output reads back as
    a bake file (`${` as `$${`, `%{` as `%%{`; buildx's Target.MarshalJSON does so since 0.13)."""
    with tempfile.TemporaryDirectory() as tmp:
        bake = {"target": {"t": {"labels": {"k": "$${X}"}}}}
        (Path(tmp) / "docker-bake.json").write_text(json.dumps(bake), encoding="utf-8")
        shown = bake_print(Path(tmp), "t")["target"]["t"]["labels"]["k"]
    assert shown in {"${X}", "$${X}"}, shown
    return bool(shown == "$${X}")


def as_printed(value: str) -> str:
    """A label or arg value as `bake --print` shows it."""
    if print_escapes():
        return value.replace("${", "$${").replace("%{", "%%{")
    return value
