"""The typed manifest and the plan built from it, fed in-memory data (unit tier)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen.commands.list import tag_strings
from bakegen.layout import OUTPUT_DIR
from bakegen.load.merge import load
from bakegen.manifest.build import build_manifest
from bakegen.manifest.platforms import normalize_platform, split_cudnn
from bakegen.manifest.records import DEFAULT
from bakegen.manifest.values import Cudnn
from bakegen.plan.build import build_plan
from bakegen.schema.document import defaults
from testing.unit import RELEASE, manifest_data, plan_of, typed

CUDA = {
    "cuda_dependencies": {
        "12.4.1": {"cudart": "12.4.127-1", "cudnn9": "9.1.0.70-1"},
        "12.6.3": {"cudart": "12.6.77-1", "cudnn9": "9.5.1.17-1"},
    }
}


def cuda_data(**release: object) -> dict[str, object]:
    spec = {**RELEASE, "cuda_prefix_url": "ubuntu2404", "cuda": "12.4.1", **release}
    return manifest_data(
        packages={"app": {"cudnn": ["debian"]}},
        releases={"debian": {"12": spec}},
        **CUDA,
    )


def test_defaults_are_merged_once_and_marked_as_defaults() -> None:
    m = typed(manifest_data(python_versions=None))
    assert m.python_versions == ("3.6", "3.7", "3.8")
    assert m.packages["app"].python_versions == ("3.6", "3.7", "3.8")
    assert m.packages["app"].python_from == (DEFAULT, "python_versions")
    assert m.where(m.packages["app"].python_from) is None
    assert m.version == "devel"
    assert m.platforms == ("linux/amd64",)
    assert m.release_types["runtime"].lineage == ("runtime", "base")
    assert m.release_types["runtime"].path == (DEFAULT, "release_types", "runtime")
    assert m.release_types["cudnn"].needs_cuda


def test_a_manifest_value_overrides_the_default_and_keeps_its_origin() -> None:
    m = typed(manifest_data(python_versions=["3.11", "3.12"]))
    assert m.packages["app"].python_versions == ("3.11", "3.12")
    assert m.packages["app"].python_from == ("python_versions",)


def test_top_level_cuda_repo_url_reaches_the_plan() -> None:
    data = cuda_data()
    data["cuda_repo_url"] = "https://mirror.example.com/cuda/"
    plan = plan_of(data)
    cudnn = [i for i in plan.images if i.release_type == "cudnn"]
    assert cudnn
    for image in cudnn:
        assert image.cuda is not None
        assert image.cuda.repo_url == "https://mirror.example.com/cuda/ubuntu2404"


def test_cuda_repo_url_defaults_to_nvidia() -> None:
    image = next(i for i in plan_of(cuda_data()).images if i.cuda)
    assert image.cuda is not None
    assert image.cuda.repo_url == (
        "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404"
    )


def test_cudnn_is_the_component_named_cudnn() -> None:
    others, cudnn = split_cudnn((("cudart", "1"), ("cudnn9", "9.1"), ("libcublas", "2")))
    assert others == (("cudart", "1"), ("libcublas", "2"))
    assert cudnn == (("cudnn9", "9.1"),)
    m = typed(cuda_data())
    assert m.cuda_versions["12.4.1"].cudnn == Cudnn("cudnn9", "9.1.0.70-1", "9")
    assert m.cuda_versions["12.4.1"].components == (("cudart", "12.4.127-1"),)


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/x86-64", "linux/amd64"),
        ("linux/arm64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm/v7", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/arm/7", "linux/arm/v7"),
        ("linux/i386", "linux/386"),
        ("linux/riscv64", "linux/riscv64"),
    ],
)
def test_platforms_are_read_as_buildkit_reads_them(written: str, normal: str) -> None:
    assert normalize_platform(written) == normal


@pytest.mark.parametrize("arm", ["linux/arm64/v8", "linux/aarch64"])
def test_cuda_images_keep_arm64_in_any_spelling(arm: str) -> None:
    plan = plan_of(cuda_data(platforms=["linux/x86_64", arm]))
    for image in plan.images:
        assert image.platforms == ("linux/amd64", "linux/arm64"), image.target


def test_one_platform_spelt_twice_is_built_once() -> None:
    plan = plan_of(
        manifest_data(
            releases={"debian": {"12": {**RELEASE, "platforms": ["linux/arm64", "linux/arm64/v8"]}}}
        )
    )
    assert {i.platforms for i in plan.images} == {("linux/arm64",)}


def test_cuda_by_components_resolves_to_its_entry() -> None:
    components = CUDA["cuda_dependencies"]["12.6.3"]
    m = typed(cuda_data(cuda=components))
    (release,) = m.releases
    assert release.cuda_by_components
    assert [c.version for c in release.cudas] == ["12.6.3"]


def test_python_versions_are_narrowed_by_parent_package_and_release() -> None:
    m = typed(
        manifest_data(
            python_versions=["3.10", "3.11", "3.12", "3.13"],
            packages={
                "base": {"python_versions": ["3.11", "3.12", "3.13"], "runtime": ["debian"]},
                "app": {"parent": "base", "runtime": ["debian"]},
            },
            releases={
                "debian": {
                    "12": {
                        **RELEASE,
                        "python_versions": ["3.10", "3.12", "3.13"],
                        "exclude_python": ["3.13"],
                    }
                }
            },
        )
    )
    (release,) = m.releases
    assert m.pythons("app", release) == ("3.12",)
    assert m.package_chain("app") == ("app", "base")


def test_plan_paths_tags_and_parents() -> None:
    plan = plan_of(manifest_data())
    assert [(i.target, i.parent, i.push) for i in plan.images] == [
        ("app-base-debian12-py312", None, False),
        ("app-runtime-debian12-py312", "app-base-debian12-py312", True),
    ]
    runtime = plan.image("app-runtime-debian12-py312")
    assert runtime.dockerfile == f"{OUTPUT_DIR}/app/debian12/runtime/Dockerfile"
    assert [t.text for t in runtime.tags] == [
        ("app:", runtime.tags[0].text[1], "-python3.12-bookworm-runtime")
    ]
    assert [g.name for g in plan.groups] == ["default", "runtime", "app", "debian12", "verify"]


def test_release_type_field_and_its_older_name_give_one_tag() -> None:
    types = {
        "runtime": {"tag": "{release_type}-py{python}"},
        "devel": {"parent": "base", "tag": "{release}-py{python}"},
    }
    plan = plan_of(
        manifest_data(
            release_types=types, packages={"app": {"runtime": ["debian"], "devel": ["debian"]}}
        )
    )
    tags = {i.release_type: i.tags[0].text for i in plan.images if i.push}
    assert tags == {"runtime": ("app:runtime-py3.12",), "devel": ("app:devel-py3.12",)}


def test_origins_point_where_a_merged_value_is_written(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text(
        """\
python_versions: ["3.12"]
release_spec: &spec
  templates_dir: templates/t
  envars:
    - LANG=C.UTF-8
packages:
  app:
    runtime: &distros [debian]
    devel:
      - *distros
releases:
  debian:
    "12":
      <<: *spec
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
""",
        encoding="utf-8",
    )
    m = build_manifest(load(tmp_path / "m.yml", tmp_path), defaults())
    (release,) = m.releases
    envar = m.where((*release.path, "envars", 0))
    assert envar is not None
    assert (envar.line, envar.column) == (5, 7)  # in the anchor, where it is written
    own = m.where((*release.path, "base_image"))
    assert own is not None
    assert own.line == 15
    devel = m.packages["app"].build("devel")
    assert devel is not None
    listed = m.where((*devel.path, 0))
    assert listed is not None
    assert listed.line == 8  # the list alias points at the list it names
    plan = build_plan(m)
    assert {i.release_type for i in plan.images} == {"base", "runtime", "devel"}


def test_a_release_type_can_name_versions_of_a_distro() -> None:
    releases = {"ubuntu": {v: {**RELEASE, "add_to_tags": f"u{v}"} for v in ("22.04", "24.04")}}
    plan = plan_of(
        manifest_data(
            releases=releases,
            packages={"app": {"runtime": ["ubuntu"], "devel": [{"ubuntu": ["24.04"]}]}},
        )
    )
    built = {(i.release_type, i.distro_id) for i in plan.images}
    assert built == {
        ("base", "ubuntu22.04"),
        ("base", "ubuntu24.04"),
        ("runtime", "ubuntu22.04"),
        ("runtime", "ubuntu24.04"),
        ("devel", "ubuntu24.04"),
    }


def test_picks_of_one_distro_add_up() -> None:
    releases = {
        "ubuntu": {v: {**RELEASE, "add_to_tags": f"u{v}"} for v in ("20.04", "22.04", "24.04")}
    }
    m = typed(
        manifest_data(
            releases=releases,
            packages={"app": {"runtime": [{"ubuntu": ["24.04"]}, {"ubuntu": ["20.04"]}]}},
        )
    )
    build = m.packages["app"].build("runtime")
    assert build is not None
    assert [r.version for r in m.build_releases(build)] == ["20.04", "24.04"]


def test_a_release_type_excludes_python_for_itself_and_what_is_built_from_it() -> None:
    plan = plan_of(
        manifest_data(
            python_versions=["3.10", "3.11", "3.12"],
            release_types={"devel": {"exclude_python": ["3.10"]}},
            packages={"app": {"runtime": ["debian"], "devel": ["debian"]}},
        )
    )
    pythons = {(i.release_type, i.python) for i in plan.images}
    assert ("devel", "3.10") not in pythons
    assert {("runtime", p) for p in ("3.10", "3.11", "3.12")} <= pythons
    assert {("base", p) for p in ("3.10", "3.11", "3.12")} <= pythons
    base = next(d for d in plan.dockerfiles if d.release_type == "base")
    assert base.python_versions == ("3.10", "3.11", "3.12")  # shared: serves every chain


def test_cuda_requires_names_each_cuda_version() -> None:
    data = cuda_data(
        cuda=["12.4.1", "12.6.3"], cuda_requires="cuda>={cuda_short} cuda_major={cuda_major}"
    )
    requires = {i.cuda.version: i.cuda.requires for i in plan_of(data).images if i.cuda}
    assert requires == {
        "12.4.1": "cuda>=12.4 cuda_major=12",
        "12.6.3": "cuda>=12.6 cuda_major=12",
    }


def test_images_get_local_names_while_every_registry_is_gated_off() -> None:
    plan = plan_of(
        manifest_data(
            version="1.0",
            repository={
                "hub": {"only_if": "HUB_TOKEN", "registry": {"app": "docker.io/x/app"}},
                "ghcr": {"only_if": "GHCR_TOKEN", "registry": {"app": "ghcr.io/x/app"}},
            },
        )
    )
    image = plan.image("app-runtime-debian12-py312")
    closed = {"VERSION": "1.0"}
    assert tag_strings(image, closed) == ["app:1.0-python3.12-bookworm-runtime"]
    assert tag_strings(image, {**closed, "GHCR_TOKEN": "t"}) == [
        "ghcr.io/x/app:1.0-python3.12-bookworm-runtime"
    ]


def test_an_ungated_registry_needs_no_local_name() -> None:
    plan = plan_of(
        manifest_data(
            repository={
                "hub": {"only_if": "HUB_TOKEN", "registry": {"app": "docker.io/x/app"}},
                "mine": {"registry": {"app": "registry.example.com/x/app"}},
            },
        )
    )
    image = plan.image("app-runtime-debian12-py312")
    assert not any(t.fallback for t in image.tags)


def alias_data(*aliases: dict[str, object], **changes: object) -> dict[str, object]:
    releases = {"debian": {v: {**RELEASE, "add_to_tags": f"d{v}"} for v in ("12", "13")}}
    return manifest_data(
        **{
            "version": "1.0",
            "python_versions": ["3.11", "3.12"],
            "releases": releases,
            "release_types": {"runtime": {"aliases": list(aliases)}},
            **changes,
        }
    )


def test_aliases_land_on_the_image_they_name() -> None:
    plan = plan_of(
        alias_data(
            {"tag": "latest", "where": {"distro_version": "13", "python": "3.12"}},
            {
                "tag": "python{python}-runtime",
                "where": {"distro": "debian", "distro_version": "13"},
            },
        )
    )
    env = {"VERSION": "1.0"}
    tagged = {i.target: tag_strings(i, env) for i in plan.images if i.push}
    assert tagged["app-runtime-debian13-py312"] == [
        "app:1.0-python3.12-d13-runtime",
        "app:latest",
        "app:python3.12-runtime",
    ]
    assert tagged["app-runtime-debian13-py311"] == [
        "app:1.0-python3.11-d13-runtime",
        "app:python3.11-runtime",
    ]
    assert tagged["app-runtime-debian12-py312"] == ["app:1.0-python3.12-d12-runtime"]


def test_alias_tags_are_gated_like_the_images_own() -> None:
    plan = plan_of(
        alias_data(
            {"tag": "latest", "where": {"distro_version": "13", "python": "3.12"}},
            repository={"hub": {"only_if": "HUB_TOKEN", "registry": {"app": "docker.io/x/app"}}},
        )
    )
    image = plan.image("app-runtime-debian13-py312")
    assert tag_strings(image, {"VERSION": "1.0"}) == [
        "app:1.0-python3.12-d13-runtime",
        "app:latest",
    ]
    assert tag_strings(image, {"VERSION": "1.0", "HUB_TOKEN": "t"}) == [
        "docker.io/x/app:1.0-python3.12-d13-runtime",
        "docker.io/x/app:latest",
    ]


def test_declared_tests_reach_the_verify_targets() -> None:
    plan = plan_of(
        manifest_data(
            packages={
                "app": {
                    "runtime": ["debian"],
                    "tests": [
                        {"name": "entrypoint", "run": "test -x /entrypoint.sh"},
                        {"name": "quote", "run": "echo 'it''s' \"$HOME\""},
                        {"name": "gpu", "run": "nvidia-smi -L", "gpu": True},
                        {"name": "elsewhere", "run": "false", "where": {"python": "3.11"}},
                    ],
                }
            }
        )
    )
    image = plan.image("app-runtime-debian12-py312")
    assert [t.name for t in image.tests] == ["entrypoint", "quote", "gpu"]
    (verify,) = plan.verifies
    script = dict(verify.args)["TESTS"]
    assert script.splitlines()[1:] == [
        "bakegen_test entrypoint 'test -x /entrypoint.sh'",
        "bakegen_test quote 'echo '\"'\"'it'\"'\"''\"'\"'s'\"'\"' \"$HOME\"'",
    ]
    assert "nvidia-smi" not in script  # GPU tests run with `bakegen smoke`, not in a build


def test_no_tests_no_tests_argument() -> None:
    (verify,) = plan_of(manifest_data()).verifies
    assert "TESTS" not in dict(verify.args)
