"""The plan of a manifest in the manager.py format: the seed system's images and tags."""

from __future__ import annotations

from pathlib import Path

from bakegen.commands.list import records
from bakegen.manifest.values import Cudnn
from bakegen.pipeline import plan_workspace
from bakegen.plan.records import Plan
from testing.helpers import copy_workspace

# Written from the seed system's tag rules (and checked against the tags it shipped):
# devel-python<py>-<add_to_tags>, <version>-python<py>-<add_to_tags>-runtime|-cudnn.
SEED_TAGS = sorted(
    [
        "docker.io/bentoml/model-server:devel-python3.6-slim",
        "docker.io/bentoml/model-server:devel-python3.6-centos8",
        "docker.io/bentoml/model-server:devel-python3.6-centos7",
        "docker.io/bentoml/model-server:0.13.1-python3.6-slim-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-centos8-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-centos7-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-ami2-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-alpine3.14-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-slim-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.6-slim-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-centos8-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.6-centos8-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.6-centos7-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.6-centos7-runtime",
        "docker.io/bentoml/model-server:devel-python3.7-slim",
        "docker.io/bentoml/model-server:devel-python3.7-centos8",
        "docker.io/bentoml/model-server:devel-python3.7-centos7",
        "docker.io/bentoml/model-server:0.13.1-python3.7-slim-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-centos8-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-centos7-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-ami2-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-alpine3.14-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-slim-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.7-slim-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-centos8-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.7-centos8-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.7-centos7-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.7-centos7-runtime",
        "docker.io/bentoml/model-server:devel-python3.8-slim",
        "docker.io/bentoml/model-server:devel-python3.8-centos8",
        "docker.io/bentoml/model-server:devel-python3.8-centos7",
        "docker.io/bentoml/model-server:0.13.1-python3.8-slim-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-centos8-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-centos7-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-ami2-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-alpine3.14-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-slim-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.8-slim-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-centos8-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.8-centos8-runtime",
        "docker.io/bentoml/model-server:0.13.1-python3.8-centos7-cudnn",
        "docker.io/bentoml/yatai-service:0.13.1-python3.8-centos7-runtime",
    ]
)


def seed_plan(tmp_path: Path) -> Plan:
    return plan_workspace(copy_workspace("seedlike", tmp_path))


def test_seed_tags_with_registry_gate_open(tmp_path: Path) -> None:
    rows = records(seed_plan(tmp_path), {"VERSION": "0.13.1", "HUB_PASSWORD": "secret"})
    tags = sorted(t for r in rows for t in r["tags"])
    assert tags == SEED_TAGS


def test_seed_local_names_when_gate_closed(tmp_path: Path) -> None:
    # With its only registry gated off, every pushed image keeps a local name, so that
    # `docker buildx bake --load` gives usable images; no registry tag is given.
    rows = records(seed_plan(tmp_path), {"VERSION": "0.13.1"})
    tags = sorted(t for r in rows for t in r["tags"])
    assert tags == sorted(t.removeprefix("docker.io/bentoml/") for t in SEED_TAGS)
    assert all(t.startswith(("model-server:", "yatai-service:")) for t in tags)


def test_seed_base_images_are_built_not_pushed(tmp_path: Path) -> None:
    plan = seed_plan(tmp_path)
    bases = [i for i in plan.images if i.release_type == "base"]
    # one base per package x distro release x Python version: model-server on 5 distro
    # releases, yatai-service on 3, Python 3.6-3.8
    assert len(bases) == (5 + 3) * 3
    assert all(not i.push and not i.tags and i.parent is None for i in bases)
    children = [i for i in plan.images if i.release_type != "base"]
    assert len(children) == 42
    for child in children:
        parent = plan.image(child.parent or "")
        assert parent.release_type == "base"
        assert (parent.package, parent.distro_id, parent.python) == (
            child.package,
            child.distro_id,
            child.python,
        )


def test_seed_python_versions_share_one_dockerfile(tmp_path: Path) -> None:
    plan = seed_plan(tmp_path)
    runtime = [i for i in plan.images if i.target.startswith("model-server-runtime-debian10")]
    assert [i.python for i in runtime] == ["3.6", "3.7", "3.8"]
    assert {i.dockerfile for i in runtime} == {"generated/model-server/debian10/runtime/Dockerfile"}
    assert [dict(i.args)["PYTHON_VERSION"] for i in runtime] == ["3.6", "3.7", "3.8"]


def test_seed_cuda_only_where_prefix_url_is_set(tmp_path: Path) -> None:
    plan = seed_plan(tmp_path)
    cudnn = [i for i in plan.images if i.release_type == "cudnn"]
    assert {i.distro_id for i in cudnn} == {"debian10", "centos8", "centos7"}
    assert all(i.cuda and i.cuda.version == "11.3.1" for i in cudnn)
    assert all(i.cuda is None for i in plan.images if i.release_type != "cudnn")
    centos7 = next(i for i in cudnn if i.distro_id == "centos7")
    assert centos7.cuda is not None
    assert centos7.cuda.prefix_url == "rhel7"
    assert centos7.cuda.cudnn == Cudnn("cudnn8", "8.2.0.53-1", "8")
    assert ("cudart", "11.3.109-1") in centos7.cuda.components


def test_seed_alpine_version_key_stays_text(tmp_path: Path) -> None:
    plan = seed_plan(tmp_path)
    assert "alpine3.14" in {i.distro_id for i in plan.images}
    assert "alpine3.1" not in {i.distro_id for i in plan.images}


def test_seed_groups(tmp_path: Path) -> None:
    plan = seed_plan(tmp_path)
    groups = {g.name: g.targets for g in plan.groups}
    assert set(groups) == {
        "default",
        "devel",
        "runtime",
        "cudnn",
        "model-server",
        "yatai-service",
        "alpine3-14",
        "amazonlinux2",
        "centos7",
        "centos8",
        "debian10",
        "verify",
    }
    assert len(groups["default"]) == 42
    assert len(groups["cudnn"]) == 9
    assert all("-cudnn-" in t for t in groups["cudnn"])
    assert groups["verify"] == tuple(f"{t}-verify" for t in groups["default"])


def test_seed_verify_checks_expect_what_tags_say(tmp_path: Path) -> None:
    plan = seed_plan(tmp_path)
    checks = {v.image: dict(v.args) for v in plan.verifies}
    assert checks["model-server-cudnn-centos7-py37-cuda11-3"] == {
        "EXPECT_PYTHON": "3.7",
        "EXPECT_OS_ID": "centos",
        "EXPECT_OS_VERSION": "7",
        "EXPECT_CUDA": "11.3.1",
    }
    assert checks["model-server-runtime-amazonlinux2-py38"]["EXPECT_OS_ID"] == "amzn"
    assert checks["model-server-runtime-alpine3-14-py36"]["EXPECT_OS_VERSION"] == "3.14"
