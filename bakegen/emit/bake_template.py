"""A workspace's docker-bake.hcl.j2 over the one bakegen ships.

An override either extends the shipped template by name (`{% extends "bakegen/docker-bake.hcl.j2"
%}`) and replaces some of its blocks, or is a whole template of its own. An extending override is
checked against the shipped template before it renders, because Jinja would quietly ignore what
no longer fits: a block the shipped template does not have (renamed, or misspelt) is never
printed, and neither is text outside any block.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

# The name under which an override extends the shipped template.
SHIPPED_NAME = "bakegen/docker-bake.hcl.j2"


@dataclass(frozen=True)
class BakeTemplate:
    """The text of the bake-file template: the workspace's override or the one bakegen ships;
    `base` is the shipped one, which an override may extend."""

    source: str
    name: str
    shipped: bool
    base: str


def loader(template: BakeTemplate) -> jinja2.BaseLoader:
    """The template under its name, and the shipped one under SHIPPED_NAME."""
    return jinja2.DictLoader({SHIPPED_NAME: template.base, template.name: template.source})
