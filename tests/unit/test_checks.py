"""The semantic rules and the plan's checks, fed in-memory manifests (unit tier).

Each case is one class of mistake; the expected lines were written by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from bakegen.manifest.records import PACKAGE_KEYS
from testing.unit import RELEASE, manifest_data, problems

R = RELEASE
CUDNN: dict[str, Any] = {"app": {"cudnn": ["debian"]}}


def cuda_release(**spec: Any) -> dict[str, Any]:
    return {"debian": {"12": {**R, "cuda_prefix_url": "ubuntu2404", **spec}}}


IMAGE_REF = (
    "is not an image reference like debian:bookworm-slim or name@sha256:<64 hex digits> "
    "(lower-case name, tag of at most 128 letters, digits, '_', '.', '-')"
)

CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "python versions with one target name": (
        manifest_data(python_versions=["3.10", "31.0"]),
        [
            "python_versions: Python versions 3.10 and 31.0 both become py310 in bake target "
            "names; keep one"
        ],
    ),
    "CUDA versions with one target name": (
        manifest_data(
            packages=CUDNN,
            cuda_dependencies={"12.4.1": {"cudart": "1"}, "12.4.10": {"cudart": "2"}},
            releases=cuda_release(cuda=["12.4.1", "12.4.10"]),
        ),
        [
            "releases.debian.12.cuda: CUDA versions 12.4.1 and 12.4.10 both become cuda12-4 in "
            "bake target names; a distro release builds one CUDA version per X.Y"
        ],
    ),
    "distro releases with one target name": (
        manifest_data(
            releases={"alpine": {"3.14": R, "3-14": R}}, packages={"app": {"runtime": ["alpine"]}}
        ),
        [
            "releases.alpine.3.14: alpine 3.14 and alpine 3-14 (at None) both become "
            "'alpine3-14' in bake target names; rename one"
        ],
    ),
    "parent package without the child's Python": (
        manifest_data(
            packages={
                "base": {"python_versions": ["3.11"], "runtime": ["debian"]},
                "app": {"parent": "base", "python_versions": ["3.12"], "runtime": ["debian"]},
            }
        ),
        [
            "packages.app.runtime: no Python version left for app runtime on debian12: the package's "
            "python_versions [3.12] and parent package base's [3.11] do not meet"
        ],
    ),
    "every Python version excluded": (
        manifest_data(releases={"debian": {"12": {**R, "exclude_python": ["3.12"]}}}),
        [
            "packages.app.runtime: no Python version left for app runtime on debian12: "
            "the distro release's exclude_python [3.12] removes all of [3.12]"
        ],
    ),
    "release type cycle through a default": (
        manifest_data(release_types={"base": {"parent": "runtime"}}),
        ["release_types.base.parent: release types form a cycle; break it"],
    ),
    "CUDA components equal to two entries": (
        manifest_data(
            packages=CUDNN,
            cuda_dependencies={"12.4.1": {"cudart": "1"}, "12.4.2": {"cudart": "1"}},
            releases=cuda_release(cuda={"cudart": "1"}),
        ),
        [
            "releases.debian.12.cuda: these components equal the cuda_dependencies entries "
            "['12.4.1', '12.4.2']; name the version instead (cuda: 12.4.1)"
        ],
    ),
    "gate variables bake or bakegen use": (
        manifest_data(
            repository={
                name: {"only_if": gate, "registry": {"app": f"{name}/app"}}
                for name, gate in (
                    ("a", "true"),
                    ("b", "VERSION"),
                    ("c", "BAKE_LOCAL_PLATFORM"),
                    ("d", "target"),
                    ("e", "null"),
                    ("f", "BAKEGEN"),
                )
            }
        ),
        [
            "repository.a.only_if: 'true' is a name the bake file uses itself; choose another variable",
            "repository.b.only_if: 'VERSION' is a name the bake file uses itself; choose another variable",
            "repository.c.only_if: 'BAKE_LOCAL_PLATFORM': names starting with BAKE_ are bake's own; "
            "choose another variable",
            "repository.d.only_if: 'target' is a name the bake file uses itself; choose another variable",
            "repository.e.only_if: 'null' is a name the bake file uses itself; choose another variable",
            "repository.f.only_if: 'BAKEGEN' is a name the bake file uses itself; choose another variable",
        ],
    ),
    "empty Python list": (
        manifest_data(python_versions=[]),
        [
            "python_versions: an empty list builds nothing; list versions, or remove the key for "
            "the default"
        ],
    ),
    "Python version with a leading zero": (
        manifest_data(python_versions=["03.12", "3.12"]),
        ["python_versions[0]: '03.12' is not a Python version like 3.12"],
    ),
    "quoted versions that are no versions": (
        manifest_data(python_versions=["3.13t", "pypy3.10"]),
        [
            "python_versions[0]: '3.13t' is not a Python version like 3.12",
            "python_versions[1]: 'pypy3.10' is not a Python version like 3.12",
        ],
    ),
    "empty tag": (
        manifest_data(release_types={"runtime": {"tag": "{cuda}"}}),
        [
            "packages.app.runtime: image app-runtime-debian12-py312 gets the tag 'app:', which "
            "is not a valid image reference: the tag is empty"
        ],
    ),
    "tag starting with a separator": (
        manifest_data(release_types={"runtime": {"tag": "-{python}"}}),
        [
            "packages.app.runtime: image app-runtime-debian12-py312 gets the tag 'app:-3.12', "
            "which is not a valid image reference: the tag '-3.12' must start with a letter, "
            "digit or '_' and hold only those, '.' and '-'"
        ],
    ),
    "tag over 128 characters": (
        manifest_data(version="v" * 101),
        [
            "packages.app.runtime: image app-runtime-debian12-py312 gets the tag "
            f"'app:{'v' * 101}-python3.12-bookworm-runtime', which is not a valid image reference: "
            "the tag is 129 characters long; at most 128 are allowed (with VERSION at its default)"
        ],
    ),
    "repository ending in a separator": (
        manifest_data(repository={"hub": {"registry": {"app": "docker.io/x/app."}}}),
        [
            "repository.hub.registry.app: 'docker.io/x/app.' is not an image repository like "
            "docker.io/org/name (lower case)"
        ],
    ),
    "base images that are no references": (
        manifest_data(
            releases={
                "debian": {
                    v: {**R, "base_image": image}
                    for v, image in (
                        ("12", "Debian:bookworm"),
                        ("13", "debian:a:b"),
                        ("14", "debian:"),
                        ("15", "debian@sha256:abc"),
                        ("16", "debian:-x"),
                        ("17", "debian:" + "x" * 129),
                    )
                }
            }
        ),
        [
            f"releases.debian.12.base_image: 'Debian:bookworm' {IMAGE_REF}",
            f"releases.debian.13.base_image: 'debian:a:b' {IMAGE_REF}",
            f"releases.debian.14.base_image: 'debian:' {IMAGE_REF}",
            f"releases.debian.15.base_image: 'debian@sha256:abc' {IMAGE_REF}",
            f"releases.debian.16.base_image: 'debian:-x' {IMAGE_REF}",
            f"releases.debian.17.base_image: 'debian:{'x' * 129}' {IMAGE_REF}",
        ],
    ),
    "one image reference after normalisation": (
        manifest_data(
            packages={"app": {"runtime": ["debian"]}, "other": {"runtime": ["debian"]}},
            repository={"hub": {"registry": {"app": "docker.io/library/other"}}},
        ),
        [
            "packages.other.runtime: images app-runtime-debian12-py312 and "
            "other-runtime-debian12-py312 get the same tag "
            "docker.io/library/other:${VERSION}-python3.12-bookworm-runtime and "
            "other:${VERSION}-python3.12-bookworm-runtime (both "
            "docker.io/library/other:${VERSION}-python3.12-bookworm-runtime); make the tag "
            "format or add_to_tags tell them apart"
        ],
    ),
    "templates_dir with a newline": (
        manifest_data(releases={"debian": {"12": {**R, "templates_dir": "templates/t\nRUN x"}}}),
        ["releases.debian.12.templates_dir: may not hold newlines or control characters"],
    ),
    "group name for a package and a distro release": (
        manifest_data(packages={"debian12": {"runtime": ["debian"]}}),
        [
            "releases.debian.12: bake group 'debian12' would stand for a package and a distro "
            "release; rename one"
        ],
    ),
    "a second cuDNN component": (
        manifest_data(
            packages=CUDNN,
            cuda_dependencies={"12.4.1": {"cudnn8": "8", "cudnn9": "9"}},
            releases=cuda_release(cuda="12.4.1"),
        ),
        [
            "cuda_dependencies.12.4.1.cudnn9: at most one cuDNN component per CUDA version: "
            "['cudnn8', 'cudnn9']"
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_mistake_is_told_once_with_its_cause(name: str) -> None:
    data, expected = CASES[name]
    assert sorted(problems(data)) == sorted(expected)  # in-memory data has no lines to order by


def test_valid_references_pass() -> None:
    data = manifest_data(
        releases={
            "debian": {
                "12": {**R, "base_image": "localhost:5000/x/debian:12@sha256:" + "a" * 64},
                "13": {**R, "base_image": "debian@sha256:" + "0" * 64, "add_to_tags": "trixie"},
                "14": {**R, "base_image": "", "add_to_tags": "x"},
            }
        },
        repository={"hub": {"registry": {"app": "registry.example.com:5000/a__b/c-d.e"}}},
    )
    assert problems(data) == [
        "releases.debian.14: `base_image` must be set: packages build ['runtime'] on it"
    ]


UBUNTU = {"ubuntu": {v: {**R, "add_to_tags": f"u{v}"} for v in ("22.04", "24.04")}}

MORE_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unknown version of a distro": (
        manifest_data(releases=UBUNTU, packages={"app": {"runtime": [{"ubuntu": ["24.4"]}]}}),
        [
            "packages.app.runtime[0].ubuntu[0]: no version '24.4' of ubuntu under `releases` "
            "(known: 22.04, 24.04); did you mean '24.04'?"
        ],
    ),
    "parent package without that version": (
        manifest_data(
            releases=UBUNTU,
            packages={
                "base": {"runtime": [{"ubuntu": ["24.04"]}]},
                "app": {"parent": "base", "runtime": ["ubuntu"]},
            },
        ),
        ["packages.app.runtime[0]: parent package 'base' has no runtime image on 'ubuntu' 22.04"],
    ),
    "every Python excluded by a release type": (
        manifest_data(release_types={"runtime": {"exclude_python": ["3.12"]}}),
        [
            "packages.app.runtime: no Python version left for app runtime on debian12: "
            "release type runtime's exclude_python [3.12] removes all of [3.12]"
        ],
    ),
    "unknown field in cuda_requires": (
        manifest_data(
            packages=CUDNN,
            cuda_dependencies={"12.4.1": {"cudart": "1"}},
            releases=cuda_release(cuda="12.4.1", cuda_requires="cuda>={cuda_minor}"),
        ),
        [
            "releases.debian.12.cuda_requires: unknown field {cuda_minor} in format; known: "
            "cuda, cuda_major, cuda_short"
        ],
    ),
    "distro release not built needs nothing": (
        manifest_data(
            releases={"ubuntu": {"22.04": {"templates_dir": "t"}, "24.04": {**R}}},
            packages={"app": {"runtime": [{"ubuntu": ["24.04"]}]}},
        ),
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(MORE_CASES))
def test_distro_versions_and_release_type_rules(name: str) -> None:
    data, expected = MORE_CASES[name]
    assert sorted(problems(data)) == sorted(expected)


ALIAS_RELEASES = {"debian": {v: {**R, "add_to_tags": f"d{v}"} for v in ("12", "13")}}


def aliased(*aliases: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return manifest_data(
        **{
            "python_versions": ["3.11", "3.12"],
            "releases": ALIAS_RELEASES,
            "release_types": {"runtime": {"aliases": list(aliases)}},
            **changes,
        }
    )


ALIAS_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "alias on two images": (
        aliased({"tag": "latest", "where": {"distro_version": "13"}}),
        [
            "release_types.runtime.aliases[0]: alias 'latest' lands on 2 images of app: "
            "app-runtime-debian13-py311, app-runtime-debian13-py312; narrow its `where` to one"
        ],
    ),
    "alias on no image": (
        aliased({"tag": "latest", "where": {"distro": "ubuntu"}}),
        [
            "release_types.runtime.aliases[0]: alias 'latest' lands on no runtime image; check its `where`"
        ],
    ),
    "alias on one image per package": (
        aliased(
            {"tag": "latest", "where": {"distro_version": "13", "python": "3.12"}},
            packages={"app": {"runtime": ["debian"]}, "tool": {"runtime": ["debian"]}},
        ),
        [],
    ),
    "alias with an unknown field": (
        aliased({"tag": "py{pyton}", "where": {"python": "3.12", "distro_version": "12"}}),
        [
            "release_types.runtime.aliases[0].tag: unknown field {pyton} in tag format; known: "
            "cuda, cuda_major, cuda_short, cuda_suffix, distro, package, python, release, "
            "release_type, suffix, version"
        ],
    ),
    "alias equal to another image's tag": (
        aliased(
            {
                "tag": "{version}-python{python}-d12-runtime",
                "where": {"distro_version": "13", "python": "3.12"},
            },
        ),
        [
            "packages.app.runtime: images app-runtime-debian12-py312 and "
            "app-runtime-debian13-py312 get the same tag app:${VERSION}-python3.12-d12-runtime; "
            "make the tag format or add_to_tags tell them apart"
        ],
    ),
    "test declared twice": (
        manifest_data(
            packages={
                "app": {
                    "runtime": ["debian"],
                    "tests": [{"name": "a", "run": "true"}, {"name": "a", "run": "false"}],
                }
            }
        ),
        ["packages.app.tests[1].name: test 'a' is declared twice"],
    ),
    "a release type named tests": (
        manifest_data(release_types={"tests": {"tag": "t"}}),
        [
            f"release_types.tests: 'tests' is a key of packages ({', '.join(PACKAGE_KEYS)}), "
            "not a release type name"
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(ALIAS_CASES))
def test_aliases_and_declared_tests(name: str) -> None:
    data, expected = ALIAS_CASES[name]
    assert sorted(problems(data)) == sorted(expected)
