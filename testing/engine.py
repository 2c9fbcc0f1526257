"""The local Docker engine of scripts/engine.sh for the end-to-end tests, and helpers to use it.

In CI (CI=true) a missing engine fails the tests that need it; locally it skips them, saying how
to start one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from testing.helpers import ROOT, unavailable

ENGINE_SH = ROOT / "scripts" / "engine.sh"
ENGINE_STATE = Path(os.environ.get("BAKEGEN_ENGINE_STATE", "/tmp/bakegen-engine"))
START_HINT = 'start one with: eval "$(scripts/engine.sh start)" && scripts/engine.sh base-images'
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Cold builds fetch Debian packages; emulated arm64 ones run dpkg under QEMU.
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 300


def engine_env() -> dict[str, str]:
    """The environment for docker commands against the engine, or fail (CI) / skip (locally).

    Uses DOCKER_HOST when set, else the socket scripts/engine.sh starts its engine on.
    """
    env = dict(os.environ)
    if shutil.which("docker") is None:
        unavailable(f"docker CLI not found; {START_HINT}")
    if not env.get("DOCKER_HOST") and (ENGINE_STATE / "docker.sock").is_socket():
        env["DOCKER_HOST"] = f"unix://{ENGINE_STATE / 'docker.sock'}"
    where = env.get("DOCKER_HOST", "the default socket")
    try:
        probe = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        unavailable(f"no answer from a Docker engine at {where} in 30 s; {START_HINT}")
    if probe.returncode != 0:
        said = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        unavailable(f"no Docker engine at {where} ({said}); {START_HINT}")
    bx = subprocess.run(
        ["docker", "buildx", "version"], env=env, capture_output=True, text=True, check=False
    )
    if bx.returncode != 0:
        unavailable(f"docker buildx plugin missing; {START_HINT}")
    return env


def need_base_image(env: dict[str, str], image: str, *platforms: str) -> None:
    """Fail (CI) / skip (locally) unless the engine holds `image` for every platform."""
    for platform in platforms:
        found = subprocess.run(
            ["docker", "image", "inspect", "--platform", platform, image],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode != 0:
            unavailable(
                f"the engine has no {image} for {platform}; run scripts/engine.sh base-images"
            )


def run(
    cmd: Sequence[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    timeout: float = RUN_TIMEOUT,
    input_text: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command with a time limit; on failure, assert with the tail of its output."""
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)}: still running after {timeout:.0f} s\n{tail(exc.stderr)}")
    if check:
        assert proc.returncode == 0, (
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"stdout:\n{tail(proc.stdout)}\nstderr:\n{tail(proc.stderr)}"
        )
    return proc


def tail(text: str | bytes | None, lines: int = 60) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-lines:])


def host_network_file(
    workspace: Path, env: dict[str, str], targets: Sequence[str], extra: Sequence[str] = ()
) -> Path:
    """scripts/engine.sh host-network: a bake file putting every target on the host network.

    The engine runs with --bridge=none, so RUN steps that fetch packages need network=host.
    """
    printed = run(
        ["docker", "buildx", "bake", "--print", *extra, *targets], env, cwd=workspace
    ).stdout
    out = workspace / "host-network.json"
    run([str(ENGINE_SH), "host-network", str(out)], env, input_text=printed)
    assert set(json.loads(out.read_text())["target"]) >= set(targets)
    return out


def bake(
    workspace: Path,
    env: dict[str, str],
    targets: Sequence[str],
    *,
    extra: Sequence[str] = (),
    allow: Sequence[str] = ("network.host",),
    load: bool = True,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`docker buildx bake --load` of `targets` on the host network, plain progress output.

    `load=False` keeps the targets' own outputs (the verify group's is cache only); `check=False`
    returns a failed bake instead of failing the test.
    """
    net = host_network_file(workspace, env, targets, extra)
    cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
    cmd += [f"--allow={a}" for a in allow]
    cmd += ["--progress=plain", *(["--load"] if load else []), *extra, *targets]
    return run(cmd, env, cwd=workspace, timeout=BUILD_TIMEOUT, check=check)


def inspect(env: dict[str, str], image: str) -> dict[str, Any]:
    proc = run(["docker", "image", "inspect", image], env, check=False)
    assert proc.returncode == 0, f"image {image} not in the engine: {proc.stderr.strip()}"
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data[0]


def short_name(tag: str) -> str:
    """A tag as the engine lists it: docker.io/ (and library/) left out."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return tag


def remove_images(env: dict[str, str], images: Sequence[str]) -> None:
    if images:
        run(["docker", "image", "rm", "--force", *images], env, check=False)


def python_in(env: dict[str, str], image: str, platform: str) -> str:
    """`python3 --version` inside the image (no network needed)."""
    proc = run(
        [
            *("docker", "run", "--rm", "--network", "none", "--platform", platform),
            *(image, "python3", "--version"),
        ],
        env,
        timeout=RUN_TIMEOUT,
    )
    return (proc.stdout + proc.stderr).strip()
