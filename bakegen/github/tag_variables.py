"""The workflow's tag variables: one step after each job's checkout sets every tag variable with
a `ci` source from the commit checked out (the build, merge and smoke jobs resolve the same
tags)."""

from __future__ import annotations

from typing import Any

from bakegen.manifest.records import Manifest

# The shell (bash, in a checkout of the commit built) printing each `ci` source's value.
SOURCES = {
    "commit-date": "TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%d",
    "short-sha": "git rev-parse HEAD | cut -c1-7",
    "sha": "git rev-parse HEAD",
    # a branch such as feature/x, or a pull request's 12/merge: what a tag cannot hold is '-'
    "ref-name": "printf '%s' \"$GITHUB_REF_NAME\" | tr -c 'A-Za-z0-9_.-' '-'",
}


def tag_variable_steps(m: Manifest) -> list[dict[str, Any]]:
    """The step setting the tag variables, or none when no tag variable has a `ci` source."""
    chosen = [v for v in m.tag_variables if v.ci]
    if not chosen:
        return []
    lines = [f'  echo "{v.variable}=$({SOURCES[v.ci or ""]})"' for v in chosen]
    return [
        {
            "name": "Tag variables, from the commit",
            "run": "{\n" + "\n".join(lines) + '\n} >> "$GITHUB_ENV"\n',
        }
    ]
