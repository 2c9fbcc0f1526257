"""Variants and the free image graph: what a variant inherits and changes, parents across
packages and release types found by their axes, per-image platforms, and the small rules a port
of a real family needs (x- keys, a tag given twice, a distro listed whole losing a release)."""

from __future__ import annotations

from typing import Any

import pytest

from bakegen.plan.records import Image, Plan
from testing.unit import RELEASE, manifest_data, plan_of, problems

REGISTRY = {"hub": {"registry": {"app": "docker.io/example/app"}}}


def images(plan: Plan) -> dict[str, Image]:
    return {i.target: i for i in plan.images}


def tags(image: Image) -> list[str]:
    return ["".join(p for p in t.text if isinstance(p, str)) for t in image.tags]


def family(**app: Any) -> dict[str, Any]:
    """app FROM base (runtime), tool FROM app; `app` changes app's keys."""
    return manifest_data(
        repository=REGISTRY,
        release_types={"runtime": {"tag": "{python}"}},
        packages={
            "base": {"runtime": ["debian"]},
            "app": {"parent": "base", "runtime": ["debian"], **app},
        },
    )


def test_a_variant_is_its_package_with_the_differences_it_names() -> None:
    plan = plan_of(
        family(variants={"slim": {"tag_suffix": "-slim"}, "gpu": {"tag_prefix": "gpu-"}})
    )
    found = images(plan)
    slim = found["app-slim-runtime-debian12-py312"]
    assert (slim.owner, slim.variant, slim.parent) == ("app", "slim", "base-runtime-debian12-py312")
    assert tags(slim) == ["docker.io/example/app:3.12-slim"]
    assert tags(found["app-gpu-runtime-debian12-py312"]) == ["docker.io/example/app:gpu-3.12"]
    assert tags(found["app-runtime-debian12-py312"]) == ["docker.io/example/app:3.12"]
    # Its own Dockerfile and group
    assert slim.dockerfile == "generated/app-slim/debian12/runtime/Dockerfile"
    assert "app-slim" in {g.name for g in plan.groups}


def test_a_variant_built_from_its_package_and_into_its_own_repository() -> None:
    data = family(variants={"dev": {"parent": "app", "repository": "app-dev"}})
    data["repository"]["hub"]["registry"]["app-dev"] = "docker.io/example/app-dev"
    dev = images(plan_of(data))["app-dev-runtime-debian12-py312"]
    assert dev.parent == "app-runtime-debian12-py312"
    assert tags(dev) == ["docker.io/example/app-dev:3.12"]


def test_a_variant_keeps_what_it_does_not_say_and_replaces_what_it_does() -> None:
    data = family(
        python_versions=["3.11", "3.12"],
        tests=[{"name": "a", "run": "true"}],
        variants={
            "x": {
                "python_versions": ["3.12"],
                "tests": [{"name": "b", "run": "false"}],
                "tag_suffix": "-x",
            }
        },
    )
    data["python_versions"] = ["3.11", "3.12"]
    found = images(plan_of(data))
    assert {i.python for i in found.values() if i.variant == "x"} == {"3.12"}
    assert [t.name for t in found["app-x-runtime-debian12-py312"].tests] == ["a", "b"]
    assert [t.name for t in found["app-runtime-debian12-py311"].tests] == ["a"]


def test_a_parent_of_another_release_type_and_python_is_found_by_the_axes_named() -> None:
    data = manifest_data(
        python_versions=["3.11", "3.12"],
        packages={
            "base": {"devel": ["debian"]},
            "app": {
                "parent": {"package": "base", "release_type": "devel", "where": {"python": "3.12"}},
                "runtime": ["debian"],
            },
        },
    )
    found = images(plan_of(data))
    assert found["app-runtime-debian12-py311"].parent == "base-devel-debian12-py312"
    assert found["app-runtime-debian12-py311"].parent_from == ("packages", "app", "parent")


def test_a_parent_that_fits_several_images_must_be_named() -> None:
    cuda = {"12.4.1": {"cudart": "1"}, "12.6.3": {"cudart": "2"}}
    release = {**RELEASE, "cuda_prefix_url": "debian12", "cuda": ["12.4.1", "12.6.3"]}
    data = manifest_data(
        cuda_dependencies=cuda,
        releases={"debian": {"12": release}},
        packages={
            "gpu": {"cudnn": ["debian"]},
            "app": {"parent": {"package": "gpu", "release_type": "cudnn"}, "runtime": ["debian"]},
        },
    )
    [line] = problems(data)
    assert "which has 2 images that fit" in line
    assert line.endswith("name the one under `where` (distro_version, python or cuda)")
    data["packages"]["app"]["parent"]["where"] = {"cuda": "12.6"}
    found = images(plan_of(data))
    parent = found[found["app-runtime-debian12-py312"].parent or ""]
    assert (parent.package, parent.cuda and parent.cuda.version) == ("gpu", "12.6.3")


@pytest.mark.parametrize(
    ("where", "platforms"),
    [
        ({}, ["linux/amd64", "linux/arm64"]),
        ({"packages": ["linux/arm64"]}, ["linux/arm64"]),
        ({"release_types": ["linux/amd64"]}, ["linux/amd64"]),
        (
            {"packages": ["linux/arm64", "linux/amd64"], "release_types": ["linux/amd64"]},
            ["linux/amd64"],
        ),
    ],
)
def test_platforms_are_the_distro_releases_narrowed_by_release_type_and_package(
    where: dict[str, list[str]], platforms: list[str]
) -> None:
    data = manifest_data(
        releases={"debian": {"12": {**RELEASE, "platforms": ["linux/amd64", "linux/arm64"]}}}
    )
    if "packages" in where:
        data["packages"]["app"]["platforms"] = where["packages"]
    if "release_types" in where:
        data["release_types"] = {"runtime": {"platforms": where["release_types"]}}
    plan = plan_of(data)
    assert {i.platforms for i in plan.images if i.push} == {tuple(platforms)}
    assert {d.platforms for d in plan.dockerfiles if d.release_type == "runtime"} == {
        tuple(platforms)
    }


def test_a_tag_two_formats_give_is_given_once_and_the_alias_still_lands() -> None:
    data = manifest_data(
        version="latest",
        release_types={
            "runtime": {"tag": "{version}", "aliases": [{"tag": "{version}", "where": {}}]}
        },
    )
    [image] = [i for i in plan_of(data).images if i.push]
    assert len(image.tags) == 1
    assert image.tags[0].alias is not None


def test_a_distro_listed_whole_loses_the_release_its_lists_empty_with_a_note() -> None:
    releases = {
        "debian": {
            "12": {**RELEASE, "python_versions": ["3.11"]},
            "13": {**RELEASE, "python_versions": ["3.12"], "add_to_tags": "trixie"},
        }
    }
    data = manifest_data(
        python_versions=["3.11", "3.12"],
        releases=releases,
        release_types={"runtime": {"exclude_python": ["3.11"]}},
    )
    plan = plan_of(data)
    assert {i.distro_version for i in plan.images} == {"13"}
    assert [p.message for p in plan.notes] == [
        "note: no runtime image of app on debian12: no Python version is left for it there"
    ]
    data["packages"]["app"]["runtime"] = [{"debian": ["12", "13"]}]  # named: an error
    [line] = problems(data)
    assert line.startswith(
        "packages.app.runtime: no Python version left for app runtime on debian12"
    )


def test_every_release_empty_stays_an_error() -> None:
    data = manifest_data(release_types={"runtime": {"exclude_python": ["3.12"]}})
    [line] = problems(data)
    assert "no Python version left for app runtime on debian12" in line


def test_x_keys_at_the_top_level_are_ignored() -> None:
    data = manifest_data(**{"x-tests": [{"name": "a", "run": "true"}], "x-empty": None})
    data["x-anchors"] = {"anything": [1, {"a": None}]}
    assert problems(data) == []
    data["x"] = 1  # not an x- key
    assert problems(data) == ["x: unknown key 'x'"]


def test_an_image_built_for_a_platform_its_parent_is_not_is_an_error() -> None:
    release = {**RELEASE, "platforms": ["linux/amd64", "linux/arm64"]}
    data = manifest_data(
        releases={"debian": {"12": release}},
        packages={
            "base": {"runtime": ["debian"], "platforms": ["linux/amd64"]},
            "app": {"parent": "base", "runtime": ["debian"]},
        },
    )
    assert problems(data) == [
        "packages.app.parent: image app-runtime-debian12-py312 builds for linux/arm64, which its "
        "parent base-runtime-debian12-py312 does not; narrow the image's `platforms`, or widen "
        "the parent's"
    ]
    data["packages"]["app"]["platforms"] = ["linux/amd64"]
    assert problems(data) == []
