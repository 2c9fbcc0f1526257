"""The merge jobs' `image_tags` step script against real images on the engine of
scripts/engine.sh: a tiny image built FROM debian:bookworm-slim holding a version file, and the
base image itself for two platforms (the commands run on the first one promised, arm64 under
QEMU). Needs `eval "$(scripts/engine.sh start)"` and `scripts/engine.sh base-images`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.engine import RUN_TIMEOUT, engine_env, need_base_image, remove_images, run
from tests.integration.test_image_tags_script import image_tags_step

BASE = "debian:bookworm-slim"


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    env = engine_env()
    need_base_image(env, BASE, "linux/amd64", "linux/arm64")
    return env


@pytest.fixture
def tiny(engine: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A local image holding /opt/version (no RUN step: nothing to fetch)."""
    name = f"bakegen-e2e-image-tags:{uuid.uuid4().hex[:10]}"
    context = tmp_path / "context"
    context.mkdir()
    (context / "version").write_text("1.2.3\n", encoding="utf-8")
    (context / "Dockerfile").write_text(f"FROM {BASE}\nCOPY version /opt/version\n")
    run(
        ["docker", "buildx", "build", "--load", "--platform", "linux/amd64", "-t", name, "."],
        engine,
        cwd=context,
    )
    yield name
    remove_images(engine, [name])


def test_the_tags_come_from_the_images_and_a_failing_command_publishes_nothing(
    engine: dict[str, str], tiny: str, tmp_path: Path
) -> None:
    folder = tmp_path / "digests"
    folder.mkdir()
    (folder / "app@linux-amd64").write_text(f"{tiny}\n", encoding="utf-8")
    (folder / "base@linux-arm64").write_text(f"{BASE}\n", encoding="utf-8")
    (folder / "base@linux-amd64").write_text(f"{BASE}\n", encoding="utf-8")
    (folder / "broken@linux-amd64").write_text(f"{tiny}\n", encoding="utf-8")
    commands = {
        "app": [
            {"tag": "v{output}", "run": "cat /opt/version"},
            {"tag": "debian-{output}", "run": ". /etc/os-release; echo $VERSION_ID"},
        ],
        "base": [{"tag": "arch-{output}", "run": "uname -m"}],
        "broken": [{"tag": "v{output}", "run": "echo no such thing >&2; exit 4"}],
    }
    images = "app=linux/amd64 base=linux/arm64,linux/amd64 broken=linux/amd64"
    proc = image_tags_step(engine, folder, commands, images, RUN_TIMEOUT)
    assert proc.returncode == 1, proc.stderr
    assert (folder / "app.tags").read_text(encoding="utf-8") == "v1.2.3\ndebian-12\n"
    assert (folder / "base.tags").read_text(encoding="utf-8") == "arch-aarch64\n"
    assert not (folder / "broken.tags").exists()
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("::error::")]
    assert error.startswith("::error::broken: tags_from_image 'v{output}': the command exited 4: ")
    assert error.endswith("no such thing")  # its stderr's tail, after what docker says
