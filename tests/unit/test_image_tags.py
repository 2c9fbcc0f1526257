"""Tags the bake file does not give: `tags_from_image` (a command run in the built image prints
their text) and `platform_tags` (each tag once more per platform), in the plan, its checks,
`explain`, `list`, `docs`, and what the workflow's merge jobs are given."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bakegen.commands import docs
from bakegen.commands.explain import explain
from bakegen.commands.list import READ_FROM_IMAGE, _cells, records
from bakegen.github.image_tags import image_tag_commands, platform_tag_templates
from bakegen.manifest.values import shown
from bakegen.plan.records import Image, Plan
from testing.unit import manifest_data, plan_of, problems, typed

HUB = {"hub": {"only_if": "HUB_TOKEN", "registry": {"app": "docker.io/example/app"}}}
PYTHON = "python3 -c 'import sys; print(sys.version.split()[0])'"
FROM_IMAGE = [{"tag": "python-{output}", "run": PYTHON}]
PER_PLATFORM = {"linux/amd64": "x86_64-{tag}", "linux/arm64": "aarch64-{tag}"}
BOTH = ["linux/amd64", "linux/arm64"]


def data(runtime: dict[str, Any] | None = None, **app: Any) -> dict[str, Any]:
    """app (and its variants, from `app`) on debian 12 for amd64 and arm64; the runtime type's
    keys from `runtime`."""
    made = manifest_data(
        repository=HUB,
        release_types={"runtime": {"tag": "{version}-python{python}", **(runtime or {})}},
        packages={"app": {"runtime": ["debian"], **app}},
    )
    made["releases"]["debian"]["12"]["platforms"] = list(BOTH)
    return made


def runtime(plan: Plan, package: str = "app") -> Image:
    return plan.image(f"{package}-runtime-debian12-py312")


def texts(image: Image) -> list[str]:
    return [shown(t.text) for t in image.image_tags]


def test_a_release_types_keys_reach_its_pushed_images_with_a_variants_prefix_and_suffix() -> None:
    plan = plan_of(
        data(
            {"tags_from_image": FROM_IMAGE, "platform_tags": PER_PLATFORM},
            variants={"gpu": {"tag_prefix": "gpu-", "tag_suffix": "-x"}},
        )
    )
    assert texts(runtime(plan)) == ["python-{output}"]
    assert [t.run for t in runtime(plan).image_tags] == [PYTHON]
    assert texts(runtime(plan, "app-gpu")) == ["gpu-python-{output}-x"]
    assert runtime(plan).platform_tags == tuple(PER_PLATFORM.items())
    base = plan.image("app-base-debian12-py312")  # not pushed: no tags of any kind
    assert (base.image_tags, base.platform_tags) == ((), ())


def test_a_packages_keys_replace_its_release_types_and_a_variants_its_packages() -> None:
    own = [{"tag": "tool-{output}", "run": "tool --version"}]
    plan = plan_of(
        data(
            {"tags_from_image": FROM_IMAGE, "platform_tags": PER_PLATFORM},
            tags_from_image=own,
            variants={
                "off": {"tag_prefix": "off-", "tags_from_image": [], "platform_tags": {}},
                "same": {"tag_prefix": "same-"},
                "arm": {"tag_prefix": "arm-", "platform_tags": {"linux/aarch64": "arm-{tag}"}},
            },
        )
    )
    assert texts(runtime(plan)) == ["tool-{output}"]
    assert runtime(plan).platform_tags == tuple(PER_PLATFORM.items())  # not given: the type's
    assert (runtime(plan, "app-off").image_tags, runtime(plan, "app-off").platform_tags) == ((), ())
    assert texts(runtime(plan, "app-same")) == ["same-tool-{output}"]
    # the platform as BuildKit names it; the one platform the variant names
    assert runtime(plan, "app-arm").platform_tags == (("linux/arm64", "arm-{tag}"),)


def test_where_picks_the_images_and_fields_fill_in_as_in_aliases() -> None:
    entries = [
        {"tag": "{distro}-py{python}-{output}", "run": "x"},
        {"tag": "only-{output}", "run": "x", "where": {"python": "3.11"}},
    ]
    made = data({"tags_from_image": entries})
    made["python_versions"] = ["3.11", "3.12"]
    plan = plan_of(made)
    assert texts(plan.image("app-runtime-debian12-py311")) == [
        "debian12-py3.11-{output}",
        "only-{output}",
    ]
    assert texts(runtime(plan)) == ["debian12-py3.12-{output}"]


def test_an_image_not_built_for_a_platform_gets_no_platform_tag_for_it() -> None:
    plan = plan_of(
        data(
            {"platform_tags": PER_PLATFORM},
            variants={"amd": {"tag_prefix": "amd-", "platforms": ["linux/amd64"]}},
        )
    )
    assert runtime(plan, "app-amd").platform_tags == (("linux/amd64", "x86_64-{tag}"),)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"tag": "py-{outputs}", "run": "x"},
            "tags_from_image[0].tag: unknown field {outputs} in tag format; known: ",
        ),
        (
            {"tag": "python3", "run": "x"},
            "tags_from_image[0].tag: 'python3' has no {output}: a tag read from the image",
        ),
        ({"tag": "py {output}", "run": "x"}, "'py ' has characters not allowed in a tag"),
        ({"tag": "{output:>4}", "run": "x"}, "a tag field takes no conversion or format spec"),
        ({"tag": "{output}", "run": ""}, "tags_from_image[0].run: a shell command that is not"),
        ({"tag": "{output}", "run": " \n\t"}, "a shell command that is not empty"),
        ({"tag": "{output}"}, "`run` is a required property"),
        ({"tag": "{output}", "run": "x", "when": {}}, "'when'"),
    ],
)
def test_a_bad_entry_is_one_line_at_its_key(entry: dict[str, Any], message: str) -> None:
    for where in ("release_types.runtime.", "packages.app."):
        made = (
            data({"tags_from_image": [entry]})
            if where.startswith("release")
            else data(tags_from_image=[entry])
        )
        found = problems(made)
        assert len(found) == 1, found
        assert found[0].startswith(where), found
        assert message in found[0], found


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        ({"linux/amd64": "x86_64"}, "linux/amd64: 'x86_64' has no {tag}: write it where"),
        ({"linux/amd64": "{tag}"}, "linux/amd64: a platform tag that is the tag itself"),
        ({"linux/amd64": "x 86-{tag}"}, "'x 86-' has characters not allowed in a tag"),
        ({"linux/amd64": "{tag}:x"}, "':x' has characters not allowed in a tag"),
        ({"linux/amd64": "{python}-{tag}"}, "unknown field {python} in tag format; known: tag"),
        ({"linux/amd64": "{tag!r}-x"}, "{tag!r}: a tag field takes no conversion"),
        (
            {"linux/arm64": "a-{tag}", "linux/aarch64": "b-{tag}"},
            "linux/aarch64: linux/arm64 is written twice",
        ),
        (
            {"linux/amd64": "p-{tag}", "linux/arm64": "p-{tag}"},
            "linux/arm64: linux/arm64 and linux/amd64 would get the same tags",
        ),
        ({"linux amd64": "p-{tag}"}, "is not a platform like linux/arm64"),
        ({"linux/amd64": 12}, "int 12 is not a string"),
    ],
)
def test_a_bad_platform_tag_is_one_line_at_its_key(templates: dict[str, Any], message: str) -> None:
    found = problems(data({"platform_tags": templates}))
    assert len(found) == 1, found
    assert found[0].startswith("release_types.runtime.platform_tags"), found
    assert message in found[0], found


def test_a_release_type_not_pushed_has_neither() -> None:
    made = data()
    made["release_types"]["base"] = {"tags_from_image": FROM_IMAGE, "platform_tags": PER_PLATFORM}
    assert problems(made) == [
        f"release_types.base.{key}: a release type that is not pushed has no tags: its `{key}` "
        "would never be used; remove it"
        for key in ("platform_tags", "tags_from_image")  # sorted: no file lines here
    ]


def test_a_platform_no_image_it_is_for_builds_is_refused_one_that_some_build_is_not() -> None:
    assert problems(data(platform_tags={"linux/s390x": "s-{tag}"})) == [
        "packages.app.platform_tags.linux/s390x: no image it is for is built for linux/s390x "
        "(they are for linux/amd64, linux/arm64); remove it, or build the images for it"
    ]
    some = data(
        {"platform_tags": PER_PLATFORM},
        variants={"amd": {"tag_prefix": "amd-", "platforms": ["linux/amd64"]}},
    )
    assert problems(some) == []
    # the release type's key, replaced for every image that would have it, is for none
    unused = data({"platform_tags": {"linux/s390x": "s-{tag}"}}, platform_tags=PER_PLATFORM)
    assert problems(unused) == []


def test_an_entry_whose_where_names_no_image_is_refused() -> None:
    entry = {"tag": "x-{output}", "run": "x", "where": {"python": "3.9"}}
    assert problems(data({"tags_from_image": [entry]})) == [
        "release_types.runtime.tags_from_image[0].where: names no image it is for; check its "
        "values (every key given must match)"
    ]


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("-{output}", "the tag '-0' must start with a letter"),
        (".{output}", "the tag '.0' must start with a letter"),
        ("x" * 128 + "{output}", "at most 128 are allowed"),
    ],
)
def test_a_tag_no_output_can_make_valid_is_refused(tag: str, why: str) -> None:
    found = problems(data({"tags_from_image": [{"tag": tag, "run": "x"}]}))
    assert len(found) == 1, found
    assert found[0].startswith("release_types.runtime.tags_from_image[0].tag: image ")
    assert "(with {output} as 0), which is not a valid tag: " in found[0]
    assert why in found[0]


def test_a_platform_tag_of_a_tag_read_from_the_image_is_checked_too() -> None:
    long = {"tags_from_image": [{"tag": "y" * 100 + "{output}", "run": "x"}]}
    assert problems(data(long)) == []
    found = problems(data({**long, "platform_tags": {"linux/amd64": "x" * 30 + "-{tag}"}}))
    assert len(found) == 1, found
    assert "at most 128 are allowed" in found[0]


def test_platform_tags_take_part_in_the_checks_of_every_tag() -> None:
    """A platform tag longer than a tag may be, or one that another image's tag also is."""
    too_long = data({"tag": "v" * 125, "platform_tags": {"linux/amd64": "x86_64-{tag}"}})
    (found,) = problems(too_long)
    assert f"gets the tag 'docker.io/example/app:x86_64-{'v' * 125}'" in found
    assert "at most 128 are allowed" in found
    clash = data({"tag": "{package}", "platform_tags": {"linux/amd64": "x-{tag}"}})
    clash["packages"]["x-app"] = {"runtime": ["debian"]}
    clash["repository"]["hub"]["registry"] = {"app": "docker.io/e/s", "x-app": "docker.io/e/s"}
    assert problems(clash) == [
        "packages.x-app.runtime: images app-runtime-debian12-py312 and "
        "x-app-runtime-debian12-py312 get the same tag docker.io/e/s:x-app; make the tag format "
        "or add_to_tags tell them apart"
    ]


def test_a_tag_variable_may_not_be_named_output() -> None:
    made = data()
    made["tag_variables"] = {"output": {"default": "x"}}
    assert problems(made) == [
        "tag_variables.output: 'output' is a tag field bakegen fills; choose another name"
    ]


def test_the_workflow_is_given_each_images_commands_and_templates() -> None:
    made = data(
        {
            "tags_from_image": [
                {"tag": "{version}-py-{output}", "run": PYTHON},
                {"tag": "{date}-{output}", "run": "date"},
            ],
            "platform_tags": PER_PLATFORM,
        },
        variants={"gpu": {"tag_prefix": "gpu-", "platform_tags": {}}},
    )
    made["version"] = "1.0"
    made["tag_variables"] = {"date": {"ci": "commit-date"}}
    plan = plan_of(made)
    assert image_tag_commands(plan) == {
        "app-runtime-debian12-py312": [
            {"tag": "${VERSION:-1.0}-py-{output}", "run": PYTHON},
            {"tag": "${DATE}-{output}", "run": "date"},
        ],
        "app-gpu-runtime-debian12-py312": [
            {"tag": "gpu-${VERSION:-1.0}-py-{output}", "run": PYTHON},
            {"tag": "gpu-${DATE}-{output}", "run": "date"},
        ],
    }
    assert platform_tag_templates(plan) == {"app-runtime-debian12-py312": PER_PLATFORM}
    none = plan_of(data())
    assert (image_tag_commands(none), platform_tag_templates(none)) == ({}, {})


def test_explain_shows_both_with_their_entries() -> None:
    made = data(
        {"tags_from_image": FROM_IMAGE, "platform_tags": PER_PLATFORM},
        variants={"amd": {"tag_prefix": "amd-", "platforms": ["linux/amd64"]}},
    )
    m, plan = typed(made), plan_of(made)
    _, rows = explain(m, plan, "app-amd-runtime-debian12-py312")
    found = [(r.field, r.value) for r in rows if "from image" in r.field or "platform" in r.field]
    assert found == [
        ("platforms", "linux/amd64"),
        ("tag from image", f"amd-python-{{output}}, {{output}} printed by: {PYTHON}"),
        ("platform tag linux/amd64", "x86_64-{tag}"),  # not arm64: the image is not built for it
    ]


def test_list_and_docs_show_them_in_each_repository_of_the_images_tags() -> None:
    made = data(
        {"tags_from_image": [*FROM_IMAGE, {"tag": "{day}-{output}", "run": "date"}]},
        platform_tags=PER_PLATFORM,
    )
    made["tag_variables"] = {"day": {}}
    plan = plan_of(made)
    for env, repo in (({}, "app"), ({"HUB_TOKEN": "x"}, "docker.io/example/app")):
        (row,) = [r for r in records(plan, env) if r["push"]]
        assert row["tags_from_image"] == [f"{repo}:python-{{output}}"]  # DAY empty: not given
        assert row["platform_tags"] == PER_PLATFORM
        cell = _cells(row)[-1]
        assert cell.endswith(
            f" {repo}:python-{{output}} {READ_FROM_IMAGE} "
            "(per platform: linux/amd64 x86_64-{tag}, linux/arm64 aarch64-{tag})"
        )
    (row,) = [r for r in records(plan, {"DAY": "mon"}) if r["push"]]
    assert row["tags_from_image"] == ["app:python-{output}", "app:mon-{output}"]
    table = docs.table(plan, {})
    assert f"`app:python-{{output}}` {READ_FROM_IMAGE}" in table
    assert (
        "<br>per platform: `x86_64-{tag}` (linux/amd64), `aarch64-{tag}` (linux/arm64) |" in table
    )


def test_an_image_without_either_shows_nothing_new() -> None:
    plan = plan_of(data())
    (row,) = [r for r in records(plan, {}) if r["push"]]
    assert (row["tags_from_image"], row["platform_tags"]) == ([], {})
    assert READ_FROM_IMAGE not in _cells(row)[-1]
    assert "per platform" not in docs.table(plan, {})


def test_the_keys_change_nothing_the_bake_file_holds() -> None:
    """The merge jobs publish them: the plan's tags (bake's) are as without the keys."""
    plain = plan_of(data())
    keyed = plan_of(
        copy.deepcopy(data({"tags_from_image": FROM_IMAGE}, platform_tags=PER_PLATFORM))
    )
    assert [i.tags for i in keyed.images] == [i.tags for i in plain.images]


def test_a_build_argument_field_is_the_images_and_one_it_lacks_is_refused() -> None:
    made = data(tags_from_image=[{"tag": "{args.TOOL}-{output}", "run": "tool -V"}])
    made["args"] = [{"values": {"TOOL": "uv"}, "where": {"python": "3.11"}}]
    made["python_versions"] = ["3.11", "3.12"]
    assert problems(made) == [
        "packages.app.tags_from_image[0].tag: {args.TOOL}: image app-runtime-debian12-py312 "
        "gets no build argument TOOL from `args`; give it to them (a `where` naming them) or "
        "leave the field out of this format"
    ]
    made["args"][0].pop("where")
    assert texts(runtime(plan_of(made))) == ["uv-{output}"]
