"""Reading the documentation's pages in tests: their fenced code blocks, the files a page's
titled blocks make, and the `$ bakegen ...` examples with the output the page shows."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testing.helpers import ROOT

DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
TITLE = re.compile(r'title="([^"]+)"')


@dataclass(frozen=True)
class Block:
    language: str
    title: str | None
    text: str


@dataclass(frozen=True)
class Example:
    """`$ [VAR=value ...] bakegen ARGS` and the lines the page shows it printing."""

    env: dict[str, str]
    args: list[str]
    shown: list[str]


def page(rel: str) -> str:
    return (DOCS / rel).read_text(encoding="utf-8")


def blocks(text: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(text):
        title = TITLE.search(match.group(2))
        found.append(Block(match.group(1), title.group(1) if title else None, match.group(3)))
    return found


def titled_files(text: str) -> dict[str, str]:
    """The files a page writes out in blocks titled with their path."""
    return {b.title: b.text for b in blocks(text) if b.title}


def examples(text: str) -> list[Example]:
    """The page's `text` blocks that start with `$ ... bakegen ...`."""
    found = []
    for block in blocks(text):
        first, *rest = block.text.splitlines()
        if block.language != "text" or not first.startswith("$ "):
            continue
        words = shlex.split(first[2:])
        env = {}
        while words and "=" in words[0] and words[0] != "bakegen":
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        assert words[0] == "bakegen", first
        found.append(Example(env, words[1:], rest))
    return found


def documented_pages() -> list[Path]:
    return sorted(p.relative_to(DOCS) for p in DOCS.rglob("*.md"))


def schema_keys(schema: dict[str, Any]) -> set[str]:
    """Every key name the schema accepts anywhere (properties of every object and `$defs`)."""
    found = set(schema.get("properties", {}))
    for sub in schema.get("properties", {}).values():
        found |= schema_keys(sub)
    for sub in schema.get("$defs", {}).values():
        found |= schema_keys(sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found |= schema_keys(extra)
    items = schema.get("items")
    if isinstance(items, dict):
        found |= schema_keys(items)
    return found
