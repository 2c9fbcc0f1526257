"""The workflow's settings: the manifest's `workflow:` key together with the command's options.

Runner labels come from bakegen's defaults, then the manifest's `workflow.runners`, then
`--runner`. The check job's `ci github --check` repeats the labels that did not come from the
manifest, so that a later change of the manifest's labels is drift it sees: a `--runner` giving
a platform bakegen's default label never overrides a label the manifest names (it is what a
workflow made before the manifest named one repeats).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bakegen.errors import ManifestError
from bakegen.github.jobs import DEFAULT_RUNNERS, Options
from bakegen.manifest.records import Manifest

TAGS = ["[0-9]*"]  # the tags whose pushes build (their name is VERSION)
STEP_KEYS = ("name", "if", "uses", "with", "env", "run")  # a step of the user's, in this order


@dataclass(frozen=True)
class Settings:
    """What the workflow is made with, beyond the plan."""

    runners: Mapping[str, str]  # platform -> runner label, every source merged
    pinned: tuple[tuple[str, str], ...]  # the `--runner` values the check job repeats
    on: Mapping[str, Any]  # the workflow's `on:`
    events: tuple[str, ...]
    timeouts: Mapping[str, int]
    steps: tuple[dict[str, Any], ...]

    def timeout(self, kind: str) -> dict[str, int]:
        """A job's `timeout-minutes` (`kind`: check, build, merge or smoke), when one is set."""
        return {"timeout-minutes": self.timeouts[kind]} if kind in self.timeouts else {}


def settings(m: Manifest, options: Options) -> Settings:
    """The settings of the workflow made from `m` with `options`."""
    runners, pinned = _runners(m, options)
    w = m.workflow
    return Settings(
        runners=runners,
        pinned=pinned,
        on=_on(m, options.branches),
        events=w.events,
        timeouts=dict(w.timeouts),
        steps=tuple({k: _plain(s[k]) for k in STEP_KEYS if k in s} for s in w.steps),
    )


def _runners(m: Manifest, options: Options) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    named = set(m.workflow.named)
    given = {p: label for p, label in options.runners.items() if DEFAULT_RUNNERS.get(p) != label}
    runners = {**DEFAULT_RUNNERS, **dict(m.workflow.runners), **given}
    pinned = tuple(sorted((p, r) for p, r in runners.items() if p not in named or p in given))
    return runners, pinned


def _on(m: Manifest, branches: tuple[str, ...]) -> dict[str, Any]:
    """The workflow's triggers: the manifest's events (by default every one)."""
    events, schedule = m.workflow.events, m.workflow.schedule
    push: dict[str, Any] = {
        **({"branches": list(branches)} if "push" in events else {}),
        **({"tags": TAGS} if "tags" in events else {}),
    }
    found: dict[str, Any] = {
        **({"push": push} if push else {}),
        **{e: None for e in ("pull_request", "workflow_dispatch") if e in events},
        **({"schedule": [{"cron": c} for c in schedule]} if "schedule" in events else {}),
    }
    if not found.get("schedule"):
        found.pop("schedule", None)
    if not found:
        raise ManifestError(
            [
                m.problem(
                    ("workflow", "events"),
                    "no event runs the workflow: schedule needs `workflow.schedule`; "
                    "name another event, or give the schedule",
                )
            ]
        )
    return found


def _plain(value: Any) -> Any:
    """A step's value as the workflow writes it: mappings as plain dicts."""
    return dict(value) if isinstance(value, Mapping) else value
