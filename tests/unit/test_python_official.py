"""A port of the official Python images' Linux variants (tests/workspaces/python-official): one
package gives every X.Y its full version and checksum as build arguments, a release candidate
included, and every image the tags the official images carry."""

from __future__ import annotations

from bakegen.commands.list import tag_strings
from bakegen.pipeline import plan_workspace
from testing.helpers import WORKSPACES

HUB = "docker.io/library/python:"
# The official images' tags of Python 3.13 and of the 3.14 candidate (as their registry lists them).
OFFICIAL = {
    "python-runtime-debian12-py313": "3.13.1-bookworm 3.13-bookworm 3-bookworm bookworm 3.13.1 3.13 3 latest",
    "python-runtime-debian-slim12-py313": "3.13.1-slim-bookworm 3.13-slim-bookworm 3-slim-bookworm "
    "slim-bookworm 3.13.1-slim 3.13-slim 3-slim slim",
    "python-runtime-alpine3-21-py313": "3.13.1-alpine3.21 3.13-alpine3.21 3-alpine3.21 alpine3.21 "
    "3.13.1-alpine 3.13-alpine 3-alpine alpine",
    "python-runtime-debian12-py314": "3.14.0rc1-bookworm 3.14-rc-bookworm 3.14.0rc1 3.14-rc",
    "python-runtime-debian12-py312": "3.12.8-bookworm 3.12-bookworm 3.12.8 3.12",
}


def test_one_package_gives_every_version_its_arguments_and_the_official_tags() -> None:
    plan = plan_workspace(WORKSPACES / "python-official")
    assert {i.package for i in plan.images} == {"python"}
    images = {i.target: i for i in plan.images}
    for target, tags in OFFICIAL.items():
        assert sorted(tag_strings(images[target], {})) == sorted(HUB + t for t in tags.split())
    args = dict(images["python-runtime-debian12-py314"].args)
    assert (args["PYTHON_VERSION"], args["FULL"], args["SHORT"]) == ("3.14", "3.14.0rc1", "3.14-rc")
    assert dict(images["python-base-alpine3-21-py312"].args)["FULL"] == "3.12.8"  # parents too
    pushed = [i for i in plan.images if i.push]
    assert len(pushed) == 9
    every = [t for i in pushed for t in tag_strings(i, {})]
    assert len(every) == len(set(every)) == 48  # 8 tags for each 3.13 image, 4 for the others
