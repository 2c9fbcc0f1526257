"""The merge job's gates step (resources/github/gates.py) run as the workflow runs it: its text
in a Python process, each gate in real bash, against digest files laid out as the download
step leaves them. A gate exiting 0 lets its image through; one exiting non-zero writes the
image's `.refused` file and an ::error:: line; every gate of every image runs; the step exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bakegen.github.scripts import GATES, script

REPO = "registry.example/staging/app"
PLATFORMS = ("linux/amd64", "linux/arm64")


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64


def lay_out(folder: Path, images: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], str]:
    """One digest file per image and platform, as the build jobs upload them; their refs."""
    folder.mkdir()
    refs = {}
    for n, (target, platforms) in enumerate(images.items()):
        for m, platform in enumerate(platforms):
            ref = f"{REPO}@{digest(1 + 2 * n + m)}"
            (folder / f"{target}@{platform.replace('/', '-')}").write_text(ref + "\n", "utf-8")
            refs[(target, platform)] = ref
    return refs


def run_gates(
    tmp: Path, gates: dict[str, list[dict[str, str]]], images: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script(GATES)],
        env={
            **os.environ,
            "GATES": json.dumps(gates),
            "IMAGES": images,
            "DIGESTS_DIR": str(tmp / "digests"),
        },
        cwd=tmp,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_passing_gates_let_every_image_through(tmp_path: Path) -> None:
    refs = lay_out(tmp_path / "digests", {"app": PLATFORMS})
    log = tmp_path / "seen"
    record = f'echo "$IMAGE_TARGET|$IMAGE_PLATFORM|$IMAGE_DIGEST|$IMAGE_REF" >> {log}'
    done = run_gates(
        tmp_path, {"app": [{"name": "look", "run": record}]}, "app=" + ",".join(PLATFORMS)
    )
    assert done.returncode == 0, done.stderr
    assert "::error::" not in done.stdout
    assert not (tmp_path / "digests" / "app.refused").exists()
    seen = log.read_text(encoding="utf-8").splitlines()
    assert seen == [
        f"app|{p}|{refs[('app', p)].rpartition('@')[2]}|{refs[('app', p)]}" for p in PLATFORMS
    ]


def test_a_failing_gate_refuses_its_image_and_every_gate_still_runs(tmp_path: Path) -> None:
    images = {"app": PLATFORMS, "lib": ("linux/amd64",), "other": PLATFORMS}
    refs = lay_out(tmp_path / "digests", images)
    log = tmp_path / "ran"
    note = f'echo "$IMAGE_TARGET $IMAGE_PLATFORM $0" >> {log}'
    gates = {
        # refuses arm64 only, with exit 3; the gate after it still runs on both platforms
        "app": [
            {"name": "arm-check", "run": f'{note}; [ "$IMAGE_PLATFORM" != linux/arm64 ] || exit 3'},
            {"name": "after", "run": note},
        ],
        "lib": [{"name": "always-no", "run": f"{note}; false"}],
        "other": [{"name": "fine", "run": note}],
        "not-in-this-job": [{"name": "never", "run": f"echo never >> {log}"}],
    }
    done = run_gates(tmp_path, gates, " ".join(f"{t}={','.join(p)}" for t, p in images.items()))
    assert done.returncode == 0, done.stderr
    arm = refs[("app", "linux/arm64")].rpartition("@")[2]
    lib = refs[("lib", "linux/amd64")].rpartition("@")[2]
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error::")]
    assert errors == [
        f"::error::app linux/arm64 {arm}: gate arm-check failed (exit 3)",
        f"::error::lib linux/amd64 {lib}: gate always-no failed (exit 1)",
    ]
    folder = tmp_path / "digests"
    assert (folder / "app.refused").read_text(encoding="utf-8") == (
        f"gate arm-check refused {refs[('app', 'linux/arm64')]} (linux/arm64, exit 3)\n"
    )
    assert "gate always-no" in (folder / "lib.refused").read_text(encoding="utf-8")
    assert not (folder / "other.refused").exists()
    ran = log.read_text(encoding="utf-8").splitlines()
    assert len(ran) == 2 + 2 + 1 + 2  # every gate of every image of this job, once
    assert "never" not in ran


def test_a_platform_without_a_digest_is_left_to_the_publish_step(tmp_path: Path) -> None:
    lay_out(tmp_path / "digests", {"app": ("linux/amd64",)})
    done = run_gates(
        tmp_path, {"app": [{"name": "no", "run": "exit 1"}]}, "app=linux/amd64,linux/arm64"
    )
    assert done.returncode == 0, done.stderr
    refused = (tmp_path / "digests" / "app.refused").read_text(encoding="utf-8")
    assert refused.count("\n") == 1  # amd64's, not the missing arm64 one
    assert "linux/amd64" in refused


def test_no_gates_no_refusals(tmp_path: Path) -> None:
    lay_out(tmp_path / "digests", {"app": PLATFORMS})
    done = run_gates(tmp_path, {}, "app=" + ",".join(PLATFORMS))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "digests").iterdir()) == [
        "app@linux-amd64",
        "app@linux-arm64",
    ]
