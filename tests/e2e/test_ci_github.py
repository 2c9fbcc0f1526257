"""The generated workflow's build and merge jobs played on the local engine and registry.

A tiny workspace (one runtime image of Debian 12 and its base, linux/amd64 and linux/arm64, the
arm64 one under QEMU) gets its workflow from `ci_github`; the play then reads that workflow and
does, per build-matrix entry, what the job does: its verify step's bake, its "Bake settings"
script, the bake, its "Export digests" script; then the merge job's script, which publishes one
index under every tag bake gives the image and inspects it. The scripts run are the very text of
the workflow's steps.

One difference, forced by the local engine: the docker driver refuses
`push-by-digest=true` (that needs a docker-container builder, whose image cannot be pulled here),
so the play pushes each platform by a tag of its own (`<repository>:play-<platform>`) and takes
its digest from bake's metadata as the job does. The workflow itself pushes by digest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.commands.list import tag_strings
from bakegen.pipeline import plan_workspace
from testing.engine import ENGINE_SH, engine_env, host_network_file, need_base_image, run, tail
from testing.helpers import make_workspace, run_cli

REGISTRY = "127.0.0.1:5555"
REPO = f"{REGISTRY}/play/model-server"
MANIFEST = f"""\
python_versions: ["3.11"]
platforms: [linux/amd64, linux/arm64]
repository:
  play:
    only_if: PLAY_REGISTRY
    registry: {{model-server: {REPO}}}
release_types:
  runtime:
    aliases:
      - tag: "python{{python}}"
        where: {{distro: debian}}
packages:
  model-server: {{runtime: [debian]}}
releases:
  debian:
    "12": {{templates_dir: templates/debian, base_image: "debian:bookworm-slim", add_to_tags: bookworm}}
"""
TARGET = "model-server-runtime-debian12-py311"


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in job["steps"] if s.get("name") == name)
    return found


def expand(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("${{ " + key + " }}", value)
    assert "${{" not in text, text
    return text


def python_script(
    script: str, env: dict[str, str], cwd: Path, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A `shell: python` step's script, run as the runner runs it."""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check:
        assert proc.returncode == 0, tail(proc.stdout) + "\n" + tail(proc.stderr)
    return proc


def index_platforms(env: dict[str, str], ref: str) -> list[str]:
    raw = run(["docker", "buildx", "imagetools", "inspect", "--raw", ref], env).stdout
    return sorted(
        f"{m['platform']['os']}/{m['platform']['architecture']}"
        for m in json.loads(raw).get("manifests", [])
        if m.get("platform", {}).get("os") not in (None, "unknown")
    )


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    env = engine_env()
    need_base_image(env, "debian:bookworm-slim", "linux/amd64", "linux/arm64")
    run([str(ENGINE_SH), "registry"], env, timeout=300)
    return env


def play_settings(
    build: dict[str, Any], entry: dict[str, Any], job_env: dict[str, str], ws: Path, tmp: Path
) -> list[str]:
    """The settings step's script on a push to the default branch (everything is built): it
    says what this job builds; returns the --set lines of the build."""
    matrix = {f"matrix.{k}": str(v) for k, v in entry.items()}
    settings = step(build, "What to build, and bake settings")
    out = tmp / f"settings-{entry['slug']}"
    pushed_event = {
        **matrix,
        "github.event_name == 'pull_request'": "false",
        "needs.check.outputs.affected": "",
    }
    env = {**job_env, **{k: expand(v, pushed_event) for k, v in settings["env"].items()}}
    python_script(settings["run"], {**env, "GITHUB_OUTPUT": str(out)}, ws)
    written = out.read_text(encoding="utf-8").splitlines()
    assert written[:2] == [f"targets={entry['targets']}", f"verify={entry['verify']}"]
    return written[3:-1]


def play_verify(
    build: dict[str, Any], entry: dict[str, Any], job_env: dict[str, str], ws: Path
) -> None:
    """The verify step: the verify target, built for this platform, before anything is pushed."""
    matrix = {f"matrix.{k}": str(v) for k, v in entry.items()}
    verify = step(build, "Verify (what is about to be pushed)")["with"]
    sets = expand(verify["set"], matrix).split()
    assert (
        expand(verify["targets"], {"steps.settings.outputs.verify": entry["verify"]})
        == (entry["verify"])
    )
    net = host_network_file(ws, job_env, [entry["verify"]])
    cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
    cmd += ["--allow=network.host", "--progress=plain"]
    run([*cmd, *(f"--set={s}" for s in sets), entry["verify"]], job_env, cwd=ws, timeout=1800)


def play_bake_and_export(
    build: dict[str, Any],
    entry: dict[str, Any],
    lines: list[str],
    job_env: dict[str, str],
    ws: Path,
    tmp: Path,
) -> None:
    """The bake of the job's targets with the settings' lines, then the "Export digests" step."""
    pushed = f'{TARGET}.output=type=image,"name={REPO}",push-by-digest=true,name-canonical=true,push=true'
    assert lines == [f"*.platform={entry['platform']}", f"{TARGET}.tags=", pushed]
    # Local stand-in for push-by-digest (refused by the docker driver): a tag per platform.
    local = [
        f"{TARGET}.output=type=image,name={REPO}:play-{entry['slug']},push=true"
        if line == pushed
        else line
        for line in lines
    ]
    metadata = tmp / f"metadata-{entry['slug']}.json"
    net = host_network_file(ws, job_env, [TARGET])
    run(
        [
            *("docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)),
            *("--allow=network.host", "--progress=plain", f"--metadata-file={metadata}"),
            *(f"--set={s}" for s in local),
            entry["targets"],
        ],
        job_env,
        cwd=ws,
        timeout=1800,
    )
    export = step(build, "Export digests")
    matrix = {f"matrix.{k}": str(v) for k, v in entry.items()}
    values = {**matrix, "steps.bake.outputs.metadata": metadata.read_text(encoding="utf-8")}
    values["runner.temp"] = str(tmp)
    env = {**job_env, **{k: expand(v, values) for k, v in export["env"].items()}}
    python_script(export["run"], env, ws)


def play_merge(
    merge: dict[str, Any], job_env: dict[str, str], ws: Path, tmp: Path
) -> tuple[str, dict[str, str]]:
    """The merge job's script: one index under every tag; its output and environment."""
    publish = step(merge, "Publish every platform under every tag")
    (entry,) = merge["strategy"]["matrix"]["include"]
    values = {"matrix.images": entry["images"], "runner.temp": str(tmp)}
    merge_env = {
        **job_env,
        **{k: expand(v, values) for k, v in publish["env"].items()},
    }
    return python_script(publish["run"], merge_env, ws).stdout, merge_env


def test_build_jobs_then_merge_publish_every_platform_under_every_tag(
    tmp_path: Path, engine: dict[str, str]
) -> None:
    ws = make_workspace(tmp_path, MANIFEST)
    assert run_cli("render", cwd=ws).code == 0
    assert run_cli("ci", "github", cwd=ws).code == 0
    jobs = yaml.safe_load((ws / ".github/workflows/bakegen.yml").read_text(encoding="utf-8"))[
        "jobs"
    ]
    build, merge = jobs["build"], jobs["merge"]
    version = "play-" + uuid.uuid4().hex[:8]
    # What the job env gives on a push to the default branch with the registry's secret set.
    job_env = {
        **engine,
        **{k: v for k, v in build["env"].items() if "${{" not in v},
        "VERSION": version,
        "PLAY_REGISTRY": "on",
        "PUSH": "true",
    }
    digests = tmp_path / "digests"
    entries = build["strategy"]["matrix"]["include"]
    assert sorted(e["platform"] for e in entries) == ["linux/amd64", "linux/arm64"]
    for entry in entries:
        lines = play_settings(build, entry, job_env, ws, tmp_path)
        play_verify(build, entry, job_env, ws)
        play_bake_and_export(build, entry, lines, job_env, ws, tmp_path)
    assert sorted(p.name for p in digests.iterdir()) == [
        f"{TARGET}@linux-amd64",
        f"{TARGET}@linux-arm64",
    ]
    done, merge_env = play_merge(merge, job_env, ws, tmp_path)
    image = plan_workspace(ws).image(TARGET)
    promised = tag_strings(image, {"VERSION": version, "PLAY_REGISTRY": "on"})
    assert promised == [
        f"{REPO}:{version}-python3.11-bookworm-runtime",
        f"{REPO}:python3.11",
    ]
    for tag in promised:
        assert index_platforms(engine, tag) == ["linux/amd64", "linux/arm64"], tag
        assert f"{tag}: linux/amd64, linux/arm64" in done
    assert_merge_refuses_a_missing_digest(merge, merge_env, engine, digests, version, ws)


def assert_merge_refuses_a_missing_digest(
    merge: dict[str, Any],
    merge_env: dict[str, str],
    engine: dict[str, str],
    digests: Path,
    version: str,
    ws: Path,
) -> None:
    """One platform's digest withheld: the merge refuses, and publishes nothing."""
    publish = step(merge, "Publish every platform under every tag")
    (digests / f"{TARGET}@linux-arm64").unlink()
    refused_version = version + "-refused"
    refused = python_script(
        publish["run"], {**merge_env, "VERSION": refused_version}, ws, check=False
    )
    assert refused.returncode != 0
    assert f"{TARGET} linux/arm64: no digest; refusing to publish" in refused.stderr
    gone = run(
        [
            "docker",
            "buildx",
            "imagetools",
            "inspect",
            f"{REPO}:{refused_version}-python3.11-bookworm-runtime",
        ],
        engine,
        check=False,
    )
    assert gone.returncode != 0
