"""CUDA a template installs (`cuda_install: template`, e.g. from pip wheels) and the verify
checks' `cuda_check`: no NVIDIA repository, no cuda_dependencies entry, no CUDA_VERSION."""

from __future__ import annotations

from typing import Any

from bakegen.emit.dockerfiles import context
from bakegen.plan.args import CUDA_CHECK_TEST, VERIFY_CUDA_ENV
from bakegen.plan.records import Plan
from bakegen.resources import resource_text
from bakegen.schema.document import defaults
from testing.unit import RELEASE, manifest_data, plan_of, problems

TORCH = "python3 -c 'import torch; print(torch.version.cuda)'"


def data(release: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    spec = {**RELEASE, "cuda_install": "template", "cuda": ["12.4.1", "12.6.3"], **(release or {})}
    return manifest_data(
        **{
            "packages": {"app": {"cudnn": ["debian"]}},
            "releases": {"debian": {"12": spec}},
            **changes,
        }
    )


def verify_args(plan: Plan, cuda: str) -> dict[str, str]:
    image = next(i for i in plan.images if i.cuda and i.cuda.version == cuda)
    (verify,) = [v for v in plan.verifies if v.image == image.target]
    return dict(verify.args)


def test_a_template_installs_cuda_without_a_repository_or_dependencies() -> None:
    plan = plan_of(data())
    cudas = sorted(i.cuda.version for i in plan.images if i.cuda)
    assert cudas == ["12.4.1", "12.6.3"]
    df = next(d for d in plan.dockerfiles if d.cuda and d.cuda.version == "12.4.1")
    cuda = context(df)["cuda"]
    assert (cuda["install"], cuda["repo_url"], cuda["components"]) == ("template", "", {})
    assert (cuda["shortened"], cuda["major"]) == ("12.4", "12")


def test_a_cuda_dependencies_entry_still_reaches_the_template() -> None:
    deps = {"12.4.1": {"cudnn9": "9.1.0.70", "nvidia-cublas-cu12": "12.4.5.8"}}
    plan = plan_of(data(cuda_dependencies=deps))
    df = next(d for d in plan.dockerfiles if d.cuda and d.cuda.version == "12.4.1")
    cuda = context(df)["cuda"]
    assert cuda["cudnn"]["version"] == "9.1.0.70"  # pins for pip, say
    assert cuda["components"] == {"nvidia-cublas-cu12": "12.4.5.8"}


def test_from_the_repository_cuda_still_needs_its_prefix_and_entries() -> None:
    found = problems(data(release={"cuda_install": "repository"}))
    assert found == [
        "releases.debian.12: has no CUDA (cuda_prefix_url is empty) but packages build ['cudnn'] "
        "on it; remove it from those lists or set cuda_prefix_url"
    ]
    found = problems(data(release={"cuda_install": "repository", "cuda_prefix_url": "debian12"}))
    assert found[0].startswith(
        "releases.debian.12.cuda: CUDA version(s) ['12.4.1', '12.6.3'] not under cuda_dependencies"
    )


def test_a_command_check_runs_as_a_test_and_the_dockerfile_skips_cuda_version() -> None:
    plan = plan_of(data(release={"cuda_check": {"run": TORCH}}))
    args = verify_args(plan, "12.6.3")
    assert args["EXPECT_CUDA"] == ""
    assert f"bakegen_test {CUDA_CHECK_TEST} " in args["TESTS"]
    assert "12.6.3|12.6)" in args["TESTS"]


def test_a_variable_check_wants_the_full_version() -> None:
    plan = plan_of(data(release={"cuda_check": {"env": "TORCH_CUDA"}}))
    tests = verify_args(plan, "12.4.1")["TESTS"]
    assert 'found="$TORCH_CUDA"' in tests
    assert "12.4.1)" in tests
    assert "12.4)" not in tests


def test_a_packages_check_wins_over_its_distro_releases() -> None:
    packages = {"app": {"cudnn": ["debian"], "cuda_check": {"run": TORCH}}}
    plan = plan_of(data(release={"cuda_check": {"env": "OTHER"}}, packages=packages))
    tests = verify_args(plan, "12.4.1")["TESTS"]
    assert "torch.version.cuda" in tests
    assert "OTHER" not in tests


def test_the_default_check_is_the_verify_dockerfiles_own() -> None:
    default = defaults()["entries"]["releases.*.*"]["cuda_check"]
    assert default == {"env": VERIFY_CUDA_ENV}
    assert "${CUDA_VERSION:-}" in resource_text("verify.Dockerfile")
    plan = plan_of(data())
    args = verify_args(plan, "12.4.1")
    assert args["EXPECT_CUDA"] == "12.4.1"
    assert "TESTS" not in args
    explicit = plan_of(data(release={"cuda_check": {"env": VERIFY_CUDA_ENV}}))
    assert explicit.verifies == plan.verifies


def test_a_template_install_refuses_a_repository_and_needs_versions() -> None:
    assert problems(data(release={"cuda_prefix_url": "debian12"})) == [
        "releases.debian.12.cuda_prefix_url: names a repository of NVIDIA's packages, which "
        "`cuda_install: template` does not read; remove it, or install from it with "
        "`cuda_install: repository`"
    ]
    assert problems(data(release={"cuda": None})) == [
        "releases.debian.12: has no CUDA version (`cuda` names none) but packages build "
        "['cudnn'] on it; remove it from those lists or list the versions its template installs"
    ]
