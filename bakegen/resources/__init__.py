"""The data bakegen ships: the schema, defaults, the bake template, the starter workspace."""

from __future__ import annotations

from importlib import resources


def resource_text(name: str) -> str:
    return resources.files("bakegen").joinpath("resources", name).read_text(encoding="utf-8")
