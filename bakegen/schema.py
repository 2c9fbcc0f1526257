"""The manifest's JSON Schema and defaults, shipped as package resources."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import yaml


def resource_text(name: str) -> str:
    return resources.files("bakegen").joinpath("resources", name).read_text(encoding="utf-8")


@cache
def manifest_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resource_text("manifest.schema.json"))
    return schema


@cache
def defaults() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(resource_text("defaults.yaml"))
    return data
