"""The graph-aware fan-out played for real: examples/notebook-family's generated workflow (a
chain five images deep, a variant, an amd64-only image; amd64 and arm64, arm64 emulated) run
job by job against the engine and the loopback registry (testing/fanout.py).

Each image is built once per platform, its parent taken by digest from staging; a second run
with nothing changed builds nothing; after one template edit, exactly the images `bakegen
affected` names are built again, on their platforms. The merge publishes every tag bake gives
an image with every promised platform, and refuses an image one of whose platforms is missing.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from bakegen.pipeline import plan_workspace
from bakegen.plan.records import Plan
from testing.engine import ENGINE_SH, engine_env, need_base_image, run
from testing.expression import interpolate
from testing.fanout import Played
from testing.helpers import run_cli
from testing.notebook_play import edit_template, notebook_workspace, push_play


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    env = engine_env()
    need_base_image(env, "debian:bookworm-slim", "linux/amd64", "linux/arm64")
    run([str(ENGINE_SH), "registry"], env, timeout=300)
    return env


def built(played: Played) -> list[tuple[str, str]]:
    """(target, job) of every image build the play ran."""
    return sorted((t, b.job) for b in played.image_builds() for t in b.targets)


def _listed(repository: str) -> list[str]:
    """The tags of a loopback repository (the registry's tag list)."""
    host, _, name = repository.partition("/")
    with urllib.request.urlopen(f"http://{host}/v2/{name}/tags/list", timeout=30) as answer:
        tags: list[str] = json.load(answer).get("tags") or []
    return tags


def index_platforms(env: dict[str, str], ref: str) -> list[str]:
    raw = run(["docker", "buildx", "imagetools", "inspect", "--raw", ref], env).stdout
    return sorted(
        f"{m['platform']['os']}/{m['platform']['architecture']}"
        for m in json.loads(raw).get("manifests", [])
        if m.get("platform", {}).get("os") not in (None, "unknown")
    )


def assert_published(engine: dict[str, str], ws: Path, plan: Plan) -> None:
    """Every promised tag holds every promised platform; a tag read from each image (`python3`
    in it says 3.11.x); per-platform tags naming one platform's image only."""
    # every promised tag holds every promised platform
    gated = {**engine, "HUB_TOKEN": "play"}  # the registry's only_if, as the merge job has it
    printed = json.loads(
        run(["docker", "buildx", "bake", "--print", "default"], gated, cwd=ws).stdout
    )["target"]
    for image in (i for i in plan.images if i.push):
        for tag in printed[image.target]["tags"]:
            assert index_platforms(engine, tag) == sorted(image.platforms), tag
    for image in (i for i in plan.images if i.push):
        repository = printed[image.target]["tags"][0].rsplit(":", 1)[0]
        prefix = "cuda12-" if image.variant else ""
        found = run(
            ["docker", "buildx", "imagetools", "inspect", "--raw", f"{repository}:{prefix}latest"],
            engine,
        ).stdout
        python = next(t for t in _listed(repository) if t.startswith(f"{prefix}python-3.11."))
        assert index_platforms(engine, f"{repository}:{python}") == sorted(image.platforms)
        assert json.loads(found)["manifests"]
        for platform, arch in (("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")):
            tag = f"{repository}:{arch}-{prefix}latest"
            listed = f"{arch}-{prefix}latest" in _listed(repository)
            assert listed == (platform in image.platforms), tag


def test_each_image_once_per_platform_then_nothing_then_what_an_edit_affects(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    ws = notebook_workspace(tmp_path, engine, f"play-{uuid.uuid4().hex[:8]}")
    plan = plan_workspace(ws)
    cells = sorted((i.target, p) for i in plan.images for p in i.platforms)
    first = push_play(ws, tmp_path / "run1", engine)
    assert first.failed == [], "\n".join(first.logs[-6:])
    # each image once per platform, each by the job of its platform's wave
    assert len(built(first)) == len(cells) == 12
    assert sorted((t, job.split("-")[2]) for t, job in built(first)) == sorted(
        (t, p.split("/")[1]) for t, p in cells
    )
    assert_published(engine, ws, plan)
    again = push_play(ws, tmp_path / "run2", engine)
    assert again.failed == [], "\n".join(again.logs[-6:])
    assert built(again) == []
    assert len(again.reused) == len(cells)
    edit_template(ws)
    said = run_cli("affected", "--since", "HEAD", cwd=ws)
    assert said.code == 0, said.err
    affected = said.out.split()
    expected = sorted(
        (i.target, p) for i in plan.images if i.target in affected for p in i.platforms
    )
    # a pull request of that edit builds what it affects, its parents as OCI layouts, and
    # pushes nothing: the push after it builds the same again
    pull = push_play(ws, tmp_path / "pr", engine, event="pull_request")
    assert pull.failed == [], "\n".join(pull.logs[-6:])
    assert sorted(t for t, _ in built(pull)) == sorted(t for t, _ in expected)
    edited = push_play(ws, tmp_path / "run3", engine)
    assert edited.failed == [], "\n".join(edited.logs[-6:])
    expected = sorted(
        (i.target, p) for i in plan.images if i.target in affected for p in i.platforms
    )
    assert sorted({(t, p) for t, p in cells if t in affected}) == expected
    assert (
        len(built(edited)) == len(expected) == 8
    )  # minimal, scipy, pytorch x2; cuda12, datascience
    assert sorted(t for t, _ in built(edited)) == sorted(t for t, _ in expected)


def test_the_merge_refuses_an_image_missing_a_platform(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    """The merge step's script, given every digest but one platform's: that image gets no tag
    (checked with imagetools inspect), the step fails."""
    ws = notebook_workspace(tmp_path, engine, f"refuse-{uuid.uuid4().hex[:8]}")
    played = push_play(ws, tmp_path / "run", engine)
    assert played.failed == []
    jobs = yaml.safe_load((ws / ".github/workflows/bakegen.yml").read_text(encoding="utf-8"))[
        "jobs"
    ]
    merge = jobs["merge-0"]
    publish = next(
        s for s in merge["steps"] if s.get("name") == "Publish every platform under every tag"
    )
    digests = tmp_path / "digests"
    subprocess.run(
        ["cp", "-r", str(tmp_path / "run" / "artifacts"), str(tmp_path / "store")], check=True
    )
    digests.mkdir()
    for folder in (tmp_path / "store").iterdir():
        for f in folder.iterdir():
            if not f.name.endswith("@linux-arm64"):
                f.replace(digests / f.name)
    (entry,) = merge["strategy"]["matrix"]["include"]
    contexts = {
        "matrix": entry,
        "runner": {"temp": str(tmp_path)},
        "github": {"ref_type": "branch", "sha": "x", "server_url": "s", "repository": "r"},
        "secrets": {"HUB_TOKEN": "t", "HUB_USER": "u"},
    }
    env = {**engine, **{k: str(interpolate(v, contexts)) for k, v in merge["env"].items()}}
    env |= {k: str(interpolate(v, contexts)) for k, v in publish["env"].items()}
    env |= {"DIGESTS_DIR": str(digests), "VERSION": "refused"}
    proc = subprocess.run(
        ["python3", "-c", publish["run"]],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "no image for linux/arm64; refusing to publish it" in proc.stderr
    tag = json.loads(
        run(
            ["docker", "buildx", "bake", "--print", "foundation-notebook-debian12-py311"],
            {**engine, "VERSION": "refused", "HUB_TOKEN": "t"},
            cwd=ws,
        ).stdout
    )["target"]["foundation-notebook-debian12-py311"]["tags"][0]
    assert tag.endswith(":refused")
    missing = subprocess.run(
        ["docker", "buildx", "imagetools", "inspect", tag],
        env=engine,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode != 0
