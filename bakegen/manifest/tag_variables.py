"""Tag variables: bake variables the manifest declares for its tags (`{date}`, `{sha}`), set
at bake time (by the generated workflow from the commit). A tag that uses one is given only
while it is non-empty."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bakegen.errors import KeyPath

# What the generated workflow can set a tag variable to (its `ci` source), each with a value of
# its kind: the tag checks read a tag with it when the variable's default is empty.
CI_SOURCES = {
    "commit-date": "2025-01-31",  # the commit's date, YYYY-MM-DD (UTC)
    "short-sha": "0123abc",  # the commit's first 7 hex digits
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "ref-name": "main",  # the branch or tag name, each character a tag cannot hold as '-'
}
# The value the tag checks read a variable with that has neither a default nor a `ci` source.
SAMPLE = "x"


@dataclass(frozen=True)
class TagVariable:
    name: str  # as tag formats name it: `date` in `{date}`
    default: str
    ci: str | None  # a key of CI_SOURCES
    description: str
    path: KeyPath

    @property
    def variable(self) -> str:
        """The bake variable: the name upper-cased (DATE)."""
        return self.name.upper()

    @property
    def sample(self) -> str:
        """A value the tag checks read tags with: the default, or one of the CI source's kind."""
        return self.default or CI_SOURCES.get(self.ci or "", SAMPLE)


def tag_variables(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[TagVariable, ...]:
    """The manifest's `tag_variables`, in the order it writes them."""
    each = defaults["entries"]["tag_variables.*"]
    out = []
    for name, spec in (data.get("tag_variables") or {}).items():
        own = spec or {}
        out.append(
            TagVariable(
                name=str(name),
                default=str(own.get("default", each["default"])),
                ci=str(own["ci"]) if own.get("ci") else None,
                description=str(own.get("description") or ""),
                path=("tag_variables", str(name)),
            )
        )
    return tuple(out)
