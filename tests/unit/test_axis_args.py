"""Build arguments by axis value (`args`): which image gets which value, their precedence,
`{args.NAME}` in tags, what templates see, and the checks at the manifest's lines."""

from __future__ import annotations

from typing import Any

from bakegen.emit.bakefile import bake_model
from bakegen.emit.dockerfiles import context
from bakegen.manifest.values import resolve
from bakegen.plan.records import Plan
from testing.unit import RELEASE, manifest_data, plan_of, problems

PYTHONS = ["3.12", "3.13"]
FULL = [
    {"values": {"GPG_KEY": "ABC"}},
    {"where": {"python": "3.12"}, "values": {"PYTHON_FULL_VERSION": "3.12.8", "SHA": "1"}},
    {"where": {"python": "3.13"}, "values": {"PYTHON_FULL_VERSION": "3.13.1", "SHA": "2"}},
]


def data(**changes: Any) -> dict[str, Any]:
    return manifest_data(**{"python_versions": PYTHONS, "args": FULL, **changes})


def args_of(plan: Plan, python: str, release_type: str = "runtime") -> dict[str, str]:
    (image,) = [i for i in plan.images if i.python == python and i.release_type == release_type]
    return dict(image.args)


def test_each_image_gets_the_values_of_every_entry_naming_it() -> None:
    plan = plan_of(data())
    assert args_of(plan, "3.12") == {
        "PYTHON_VERSION": "3.12",
        "GPG_KEY": "ABC",
        "PYTHON_FULL_VERSION": "3.12.8",
        "SHA": "1",
    }
    assert args_of(plan, "3.13", "base")["PYTHON_FULL_VERSION"] == "3.13.1"  # parents too
    target = next(b for b in bake_model(plan).targets if b.name == "app-runtime-debian12-py313")
    assert dict(target.attrs)["args"] == args_of(plan, "3.13")


def test_a_later_entry_and_then_the_package_win() -> None:
    later = [*FULL, {"where": {"python": "3.13"}, "values": {"SHA": "3"}}]
    package = {"runtime": ["debian"], "args": [{"values": {"GPG_KEY": "OWN"}}]}
    plan = plan_of(data(args=later, packages={"app": package}))
    assert args_of(plan, "3.13")["SHA"] == "3"
    assert args_of(plan, "3.12")["SHA"] == "1"
    assert {args_of(plan, p)["GPG_KEY"] for p in PYTHONS} == {"OWN"}


def test_where_names_every_axis_as_aliases_do() -> None:
    cuda = {"12.4.1": {"cudart": "12.4.127-1"}, "12.6.3": {"cudart": "12.6.77-1"}}
    release = {**RELEASE, "cuda_prefix_url": "debian12", "cuda": ["12.4.1", "12.6.3"]}
    by_cuda = [
        {"where": {"cuda": "12.4"}, "values": {"TORCH": "cu124"}},
        {"where": {"cuda": "12.6.3", "release_type": "cudnn"}, "values": {"TORCH": "cu126"}},
        {"where": {"distro": "debian", "distro_version": "12"}, "values": {"OS": "bookworm"}},
    ]
    plan = plan_of(
        data(
            args=by_cuda,
            cuda_dependencies=cuda,
            packages={"app": {"cudnn": ["debian"]}},
            releases={"debian": {"12": release}},
        )
    )
    found = {
        (i.release_type, i.cuda.version if i.cuda else ""): dict(i.args).get("TORCH")
        for i in plan.images
    }
    assert found == {("base", ""): None, ("cudnn", "12.4.1"): "cu124", ("cudnn", "12.6.3"): "cu126"}
    assert all(dict(i.args)["OS"] == "bookworm" for i in plan.images)


def test_a_tag_reads_an_argument_so_one_package_tags_each_full_version() -> None:
    types = {"runtime": {"tag": "{args.PYTHON_FULL_VERSION}-{suffix}"}}
    plan = plan_of(data(release_types=types))
    values = plan.values({})
    found = {resolve(t.text, values) for i in plan.images for t in i.tags}
    assert found == {"app:3.12.8-bookworm", "app:3.13.1-bookworm"}


def test_templates_see_the_names_of_the_arguments_of_their_images() -> None:
    plan = plan_of(data(args=[*FULL, {"where": {"python": "3.13"}, "values": {"ONLY": "x"}}]))
    (df,) = [d for d in plan.dockerfiles if d.release_type == "runtime"]
    assert context(df)["args"] == ("GPG_KEY", "ONLY", "PYTHON_FULL_VERSION", "SHA")
    assert "PYTHON_VERSION" not in context(df)["args"]


def test_an_argument_a_tag_needs_is_one_every_image_of_the_format_gets() -> None:
    one = [{"where": {"python": "3.12"}, "values": {"PYTHON_FULL_VERSION": "3.12.8"}}]
    types = {"runtime": {"tag": "{args.PYTHON_FULL_VERSION}"}}
    assert problems(data(args=one, release_types=types)) == [
        "release_types.runtime.tag: {args.PYTHON_FULL_VERSION}: image app-runtime-debian12-py313 "
        "gets no build argument PYTHON_FULL_VERSION from `args`; give it to them (a `where` "
        "naming them) or leave the field out of this format"
    ]
    assert problems(data(release_types={"runtime": {"tag": "{args.NOPE}"}}))[0].startswith(
        "release_types.runtime.tag: unknown field {args.NOPE} in tag format; known: args.GPG_KEY"
    )


def test_entries_naming_no_image_and_arguments_set_twice_are_refused() -> None:
    nothing = [{"where": {"python": "3.9"}, "values": {"X": "1"}}]
    assert problems(data(args=nothing)) == [
        "args[0].where: names no image; check its values (every key given must match)"
    ]
    packaged = {
        "app": {"runtime": ["debian"], "args": [{"where": {"cuda": "12.4"}, "values": {"X": "1"}}]}
    }
    assert problems(data(args=None, packages=packaged)) == [
        "packages.app.args[0].where: names no image of package app; check its values (every key "
        "given must match)"
    ]
    twice = problems(data(bake={"args": {"SHA": "0", "OTHER": "1"}}))
    assert twice == [
        "bake.args.SHA: build argument SHA of image app-base-debian12-py312 is also set by "
        "`args`; set it in one place"
    ]
    assert problems(data(args=[{"values": {"PYTHON_VERSION": "3"}}])) == [
        "args[0].values.PYTHON_VERSION: bakegen sets 'PYTHON_VERSION' from `python_versions`"
    ]
