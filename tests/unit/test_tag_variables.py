"""Tag variables: bake variables for tags beyond VERSION, a tag using one given only while it
is non-empty, in the plan, the bake file, `list`, `explain` and the workflow."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from bakegen.commands.explain import explain
from bakegen.commands.list import records
from bakegen.emit.bakefile import bake_model, render_json, tags_expr
from bakegen.emit.hcl import to_hcl
from bakegen.github.tag_variables import SOURCES, tag_variable_steps
from bakegen.github.workflow import workflow
from bakegen.manifest.tag_variables import CI_SOURCES
from bakegen.manifest.values import resolve
from bakegen.plan.records import Plan, active_tags
from bakegen.schema.document import manifest_schema
from testing.unit import manifest_data, plan_of, problems, typed
from tests.unit.test_ci_github import jobs_of

HUB = {"hub": {"only_if": "HUB_TOKEN", "registry": {"app": "docker.io/example/app"}}}
VARIABLES = {"date": {"ci": "commit-date"}, "sha": {"ci": "short-sha"}}
RELEASE_TYPES = {
    "runtime": {
        "tag": "{version}-python{python}",
        "aliases": [{"tag": "{version}-{date}-{sha}", "where": {"python": "3.12"}}],
    }
}


def data(**changes: Any) -> dict[str, Any]:
    return manifest_data(
        **{
            "tag_variables": VARIABLES,
            "release_types": RELEASE_TYPES,
            "repository": HUB,
            **changes,
        }
    )


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def tags(plan: Plan, env: dict[str, str]) -> list[str]:
    values = plan.values(env)
    (image,) = [i for i in plan.images if i.push]
    return [resolve(t.text, values) for t in active_tags(image.tags, values)]


def test_each_tag_variable_is_a_bake_variable_of_its_name_upper_cased() -> None:
    plan = plan_of(data(tag_variables={**VARIABLES, "build": {"default": "7"}}))
    assert plan.variables[-3:] == (("DATE", ""), ("SHA", ""), ("BUILD", "7"))


@pytest.mark.parametrize(
    ("hub", "date", "sha"), list(itertools.product(("", "x"), ("", "2025-01-31"), ("", "abc1234")))
)
def test_a_tag_is_given_only_while_every_variable_it_uses_is_set(
    hub: str, date: str, sha: str
) -> None:
    """Two tag variables on one tag, behind a registry gate and a local fallback: never a tag
    with an empty part (`app:1.0--`)."""
    plan = plan_of(data())
    found = tags(plan, {"HUB_TOKEN": hub, "DATE": date, "SHA": sha})
    repo = "docker.io/example/app" if hub else "app"
    expected = [f"{repo}:devel-python3.12"]
    if date and sha:
        expected.append(f"{repo}:devel-{date}-{sha}")
    assert found == expected


def test_tags_without_a_registry_are_gated_by_their_variables_alone() -> None:
    plan = plan_of(data(repository=None))
    assert tags(plan, {}) == ["app:devel-python3.12"]
    assert tags(plan, {"DATE": "d", "SHA": "s"}) == ["app:devel-python3.12", "app:devel-d-s"]
    model = bake_model(plan)
    assert [f[0] for f in model.functions] == ["gate"]  # declared without any only_if
    (image,) = [i for i in plan.images if i.push]
    assert flat(to_hcl(tags_expr(image.tags))) == flat(
        'concat(["app:${VERSION}-python3.12"], gate(DATE, gate(SHA, ["app:${VERSION}-${DATE}-${SHA}"])))'
    )
    printed = json.loads(render_json(model))["target"][image.target]["tags"]
    assert flat('gate(DATE, gate(SHA, ["app:${VERSION}-${DATE}-${SHA}"]))') in flat(printed)


def test_the_local_fallback_of_a_gated_registry_needs_the_variables_too() -> None:
    plan = plan_of(data())
    (image,) = [i for i in plan.images if i.push]
    expr = flat(to_hcl(tags_expr(image.tags)))
    assert expr.startswith("or_local(")
    assert flat('gate(HUB_TOKEN, gate(DATE, gate(SHA, ["docker.io/example/app:') in expr
    assert flat('gate(DATE, gate(SHA, ["app:${VERSION}-${DATE}-${SHA}"]))') in expr


def test_a_tag_variable_may_not_take_a_name_something_else_has() -> None:
    found = problems(
        data(
            tag_variables={"cuda": {}, "source": {}, "hub_token": {}, "bake_x": {}, "args": {}},
            release_types=None,
        )
    )
    assert sorted(line.split(":")[0] for line in found) == sorted(
        f"tag_variables.{n}" for n in ("cuda", "source", "hub_token", "bake_x", "args")
    )


def test_tags_are_checked_with_each_variable_at_a_value_of_its_kind() -> None:
    """An empty default would hide a tag that is invalid once the variable is set."""
    found = problems(data(release_types={"runtime": {"tag": "{sha}"}}, repository=None))
    assert found == []
    too_long = {"runtime": {"tag": "x" * 90 + "-{full}"}}
    found = problems(
        data(tag_variables={"full": {"ci": "sha"}}, release_types=too_long, repository=None)
    )
    assert len(found) == 1
    assert "at most 128" in found[0]
    assert found[0].endswith(f"(with FULL={CI_SOURCES['sha']})")


def test_list_shows_the_tags_waiting_for_a_variable_and_explain_says_when() -> None:
    plan = plan_of(data())
    (row,) = [r for r in records(plan, {"HUB_TOKEN": "x", "SHA": "abc"}) if r["push"]]
    assert row["tags"] == ["docker.io/example/app:devel-python3.12"]
    assert row["tags_held"] == [
        {"tag": "docker.io/example/app:devel-${DATE}-abc", "needs": ["DATE"]}
    ]
    assert {t["tag"]: t["needs"] for t in row["all_tags"]}["app:${VERSION}-${DATE}-${SHA}"] == [
        "DATE",
        "SHA",
    ]
    m = typed(data())
    _, rows = explain(m, plan, row["target"])
    shown = {r.value for r in rows if r.field == "tag"}
    assert (
        "docker.io/example/app:${VERSION}-${DATE}-${SHA} (when HUB_TOKEN, DATE and SHA are set)"
        in shown
    )
    assert (
        "app:${VERSION}-${DATE}-${SHA} (while every registry is gated off, when DATE and SHA are set)"
        in shown
    )
    assert {r.field for r in rows} >= {"tag variable DATE", "tag variable SHA"}


def test_the_workflow_sets_them_after_each_checkout_from_the_sources_the_schema_names() -> None:
    enum = manifest_schema()["properties"]["tag_variables"]["additionalProperties"]["properties"]
    assert set(enum["ci"]["enum"]) == set(CI_SOURCES) == set(SOURCES)
    manifest = data(tag_variables={**VARIABLES, "local": {"default": "dev"}})
    jobs = jobs_of(workflow(typed(manifest), plan_of(manifest)))
    for name in (next(n for n in jobs if n.startswith(k)) for k in ("build", "merge")):
        steps = jobs[name]["steps"]
        assert steps[1]["name"] == "Tag variables, from the commit", name
        assert re.findall(r'echo "(\w+)=', steps[1]["run"]) == ["DATE", "SHA"]  # not LOCAL
    assert all("Tag variables" not in str(s) for s in jobs["check"]["steps"])
    assert tag_variable_steps(typed(manifest_data())) == []
