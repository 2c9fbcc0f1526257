"""The merge jobs' `image_tags` step script, run as the workflow runs it (`python -c` of the
script text) with a `docker` of the test's own first on PATH: it logs how it is called and runs
the command with the machine's `sh`, so each case's command decides what the image "prints"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bakegen.github.image_tags import image_tag_commands
from bakegen.github.scripts import IMAGE_TAGS, script
from testing.unit import plan_of
from tests.unit.test_image_tags import FROM_IMAGE, data

REFERENCE = "127.0.0.1:5555/x/staging@sha256:" + "a" * 64
# `docker run --rm --platform P --entrypoint sh REF -c RUN`: log the arguments, run RUN here.
FAKE_DOCKER = """#!/bin/sh
printf '%s\\n' "$*" >> "$DOCKER_LOG"
shift 8
exec sh -c "$1"
"""


def image_tags_step(
    env: dict[str, str], folder: Path, commands: object, images: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The step's script run as the workflow runs it, with `env` and the step's variables."""
    return subprocess.run(
        [sys.executable, "-c", script(IMAGE_TAGS)],
        env={
            **env,
            "IMAGE_TAGS": json.dumps(commands),
            "IMAGES": images,
            "DIGESTS_DIR": str(folder),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def run_step(
    tmp_path: Path, commands: dict[str, Any], images: str, *, references: bool = True, **env: str
) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    """The script's run, its DIGESTS_DIR (with a reference file for each image and platform
    of `images`, unless not `references`), and the docker commands it ran."""
    folder, bin_dir, log = tmp_path / "digests", tmp_path / "bin", tmp_path / "docker.log"
    folder.mkdir(exist_ok=True)
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER, encoding="utf-8")
    docker.chmod(0o755)
    for item in images.split() if references else ():
        target, _, platforms = item.partition("=")
        for platform in platforms.split(","):
            slug = platform.replace("/", "-")
            (folder / f"{target}@{slug}").write_text(f"{REFERENCE}-{slug}\n", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k not in ("VERSION", "DATE")}
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    proc = image_tags_step(
        {**base, "PATH": path, "DOCKER_LOG": str(log), **env}, folder, commands, images
    )
    ran = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return proc, folder, ran


def tags_of(folder: Path, target: str) -> list[str]:
    return (folder / f"{target}.tags").read_text(encoding="utf-8").splitlines()


def test_each_command_runs_in_the_image_of_the_first_promised_platform(tmp_path: Path) -> None:
    commands = {
        "a": [
            {"tag": "python-{output}", "run": "printf '  3.12.1\\n\\n'"},
            {"tag": "{output}-{output}", "run": "echo x"},
            {"tag": "again-{output}", "run": "echo 3.12.1 >&2; echo 1"},
        ],
        "b": [{"tag": "v{output}", "run": "echo 7"}],
    }
    proc, folder, ran = run_step(
        tmp_path, commands, "a=linux/arm64,linux/amd64 b=linux/amd64 c=linux/amd64"
    )
    assert proc.returncode == 0, proc.stderr
    assert tags_of(folder, "a") == ["python-3.12.1", "x-x", "again-1"]
    assert tags_of(folder, "b") == ["v7"]
    assert not (folder / "c.tags").exists()  # IMAGE_TAGS does not name it
    run = "run --rm --platform linux/arm64 --entrypoint sh"
    assert ran[0] == f"{run} {REFERENCE}-linux-arm64 -c printf '  3.12.1\\n\\n'"
    assert len(ran) == 4
    assert ran[3].startswith(f"run --rm --platform linux/amd64 --entrypoint sh {REFERENCE}-")


@pytest.mark.parametrize(
    ("run", "why"),
    [
        ("echo first >&2; echo the cause >&2; exit 3", "the command exited 3: first | the cause"),
        ("true", "the command printed nothing"),
        ("echo '   '", "the command printed nothing"),
        ("echo 'not a tag!'", "it printed 'not a tag!', which makes 'py-not a tag!': not a valid"),
        ("printf '3.11\\n3.12\\n'", "it printed '3.11\\n3.12', which makes"),
        ("printf '%0130d' 0", "not a valid tag"),
    ],
)
def test_a_command_that_fails_or_prints_no_tag_publishes_nothing_of_its_image(
    tmp_path: Path, run: str, why: str
) -> None:
    """The image's `.tags` is not written (a stale one is removed): the merge refuses an
    image IMAGE_TAGS names without it; the other images are still read, then the step fails."""
    commands = {
        "a": [{"tag": "ok-{output}", "run": "echo 1"}, {"tag": "py-{output}", "run": run}],
        "b": [{"tag": "v{output}", "run": "echo 7"}],
    }
    folder = tmp_path / "digests"
    folder.mkdir()
    (folder / "a.tags").write_text("stale\n", encoding="utf-8")
    proc, folder, _ = run_step(tmp_path, commands, "a=linux/amd64 b=linux/amd64")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("::error::")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("::error::a: tags_from_image 'py-{output}': "), errors
    assert why in errors[0].replace("%0A", "\n").replace("%25", "%"), errors
    assert not (folder / "a.tags").exists()
    assert tags_of(folder, "b") == ["v7"]


def test_a_bake_variable_is_the_environments_else_its_default_and_empty_leaves_the_tag_out(
    tmp_path: Path,
) -> None:
    commands = {
        "a": [
            {"tag": "${VERSION:-1.0}-{output}", "run": "echo 3"},
            {"tag": "${DATE}-{output}", "run": "echo 4"},
        ]
    }
    proc, folder, ran = run_step(tmp_path, commands, "a=linux/amd64")
    assert proc.returncode == 0, proc.stderr
    assert tags_of(folder, "a") == ["1.0-3"]
    assert len(ran) == 1  # the tag left out is not read
    assert "tags_from_image '${DATE}-{output}' not given: DATE empty" in proc.stdout
    proc, folder, _ = run_step(tmp_path, commands, "a=linux/amd64", VERSION="2.1", DATE="2025")
    assert proc.returncode == 0, proc.stderr
    assert tags_of(folder, "a") == ["2.1-3", "2025-4"]


def test_an_image_without_its_reference_fails_one_not_of_the_job_is_not_read(
    tmp_path: Path,
) -> None:
    commands = {"a": [{"tag": "v{output}", "run": "echo 1"}]}
    proc, _, ran = run_step(tmp_path, commands, "b=linux/amd64")
    assert (proc.returncode, ran) == (0, [])
    proc, _, ran = run_step(tmp_path, commands, "a=linux/amd64", references=False)
    assert (proc.returncode, ran) == (1, [])
    assert "::error::a: no image reference for linux/amd64 to read its tags from" in proc.stderr
    (tmp_path / "digests" / "a@linux-amd64").write_text("", encoding="utf-8")
    proc, _, ran = run_step(tmp_path, commands, "a=linux/amd64", references=False)
    assert (proc.returncode, ran) == (1, [])


def test_the_step_reads_what_the_generator_gives(tmp_path: Path) -> None:
    """image_tag_commands' JSON as the environment's IMAGE_TAGS, a variant's prefix in it."""
    made = data({"tags_from_image": FROM_IMAGE}, variants={"gpu": {"tag_prefix": "gpu-"}})
    made["version"] = "1.0"
    commands = image_tag_commands(plan_of(made))
    fake = {t: [{**e, "run": "echo 3.12.4"} for e in entries] for t, entries in commands.items()}
    images = " ".join(f"{t}=linux/amd64" for t in fake)
    proc, folder, _ = run_step(tmp_path, fake, images)
    assert proc.returncode == 0, proc.stderr
    assert tags_of(folder, "app-gpu-runtime-debian12-py312") == ["gpu-python-3.12.4"]
    assert tags_of(folder, "app-runtime-debian12-py312") == ["python-3.12.4"]
