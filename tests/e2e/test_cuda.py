"""CUDA images built for real, linux/amd64 and linux/arm64 (emulated), against a CUDA repository
on loopback: dummy packages named and versioned as NVIDIA's (each also at a newer version that
must not be chosen), a signed `InRelease` in each architecture's folder (`x86_64`, `sbsa`) and the
key where the Debian templates fetch it (tests/cuda_repo.py). This is also what an internal
mirror for air-gapped builders looks like.

The workspace is the example's (its templates, its release spec) with one package of cudnn
images on Debian 12, one cudnn chain per platform. Its `base` is the same Dockerfile with the same
arguments as model-server's Debian 12 base in test_e2e_build.py, so BuildKit's cache serves both.
The cudnn step itself is never cached: the repository's URL (a free port) is in it.

Needs the engine of scripts/engine.sh and gpg (both installed by it); in CI a missing engine or
tool fails these tests, locally it skips them. On 2 shared CPUs: about 8.5 min with nothing cached
(the emulated arm64 base is 6 of them), about 2 min with the bases cached.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing.cuda_repo import export_key, make_key, make_repository, package_names, serve
from testing.engine import (
    bake,
    engine_env,
    inspect,
    need_base_image,
    remove_images,
    run,
    tail,
)
from testing.helpers import ROOT, need_tool, run_cli

CUDA = "12.6.3"
OTHER_CUDA = "12.4.1"
PLATFORMS = ("linux/amd64", "linux/arm64")
REPO = "docker.io/example/gpu"


@dataclass(frozen=True)
class Cuda:
    """The engine's environment, the example manifest, and the repository of both its CUDA
    versions served on loopback (the folder served, its URL)."""

    env: dict[str, str]
    example: dict[str, Any]
    root: Path
    url: str


@pytest.fixture(scope="module")
def cuda(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cuda]:
    env = engine_env()
    need_base_image(env, "debian:bookworm-slim", *PLATFORMS)
    need_tool("gpg", "run scripts/engine.sh install (it installs gnupg)")
    need_tool("dpkg-deb", "apt-get install dpkg")
    example: dict[str, Any] = yaml.safe_load((ROOT / "manifest" / "manifest.yml").read_text())
    root = tmp_path_factory.mktemp("cuda") / "www"
    root.mkdir()
    make_repository(root / "repos", "debian12", example["cuda_dependencies"])
    with serve(root) as url:
        yield Cuda(env, example, root, url)


def manifest(
    setup: Cuda,
    version: str,
    cuda: str = CUDA,
    *,
    example: dict[str, Any] | None = None,
    key: str | None = None,
    folder: str = "repos",
) -> str:
    """The example manifest (or `example`) with one package, `gpu`, of cudnn images on Debian 12
    from the loopback repository's `folder`, its key `key` (`cuda_repo_key`) when given."""
    example = example or setup.example
    data = {k: v for k, v in example.items() if k not in ("repository", "packages")}
    data["version"] = version
    data["cuda_repo_url"] = f"{setup.url}/{folder}"
    if key:
        data["cuda_repo_key"] = key
    data["repository"] = {"hub": {"registry": {"gpu": REPO}}}
    data["release_types"] = {"cudnn": {"exclude_python": []}}
    data["packages"] = {"gpu": {"cudnn": [{"debian": ["12"]}]}}
    debian12 = dict(example["releases"]["debian"]["12"], cuda_prefix_url="debian12", cuda=[cuda])
    data["releases"] = {"debian": {"12": debian12}}
    return yaml.safe_dump(data, sort_keys=False)


def workspace(tmp_path: Path, text: str) -> Path:
    ws = tmp_path / "ws"
    (ws / "manifest").mkdir(parents=True, exist_ok=True)
    if not (ws / "templates").exists():
        shutil.copytree(ROOT / "templates", ws / "templates")
    (ws / "manifest" / "manifest.yml").write_text(text, encoding="utf-8")
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    return ws


def key_file(setup: Cuda, ws: Path) -> str:
    """The repository's key as a workspace file; its `cuda_repo_key`."""
    (ws / "keys").mkdir(parents=True, exist_ok=True)
    shutil.copy(
        setup.root / "repos" / "debian12" / "sbsa" / "3bf863cc.pub", ws / "keys" / "cuda.asc"
    )
    return "./keys/cuda.asc"


def target(cuda: str = CUDA) -> str:
    major, minor = cuda.split(".")[:2]
    return f"gpu-cudnn-debian12-py311-cuda{major}-{minor}"


def tag(version: str) -> str:
    return f"{REPO}:{version}-python3.11-bookworm-cudnn"


def on(platform: str) -> list[str]:
    return ["--set", f"*.platform={platform}"]


def installed(env: dict[str, str], image: str, platform: str, names: list[str]) -> dict[str, str]:
    """Package -> version installed in the image, for the names (or patterns) asked."""
    proc = run(
        [
            *("docker", "run", "--rm", "--network", "none", "--platform", platform, image),
            *("dpkg-query", "-W", "-f", "${Package}=${Version}\\n", *names),
        ],
        env,
    )
    return dict(line.split("=", 1) for line in proc.stdout.split())


def image_env(env: dict[str, str], image: str) -> dict[str, str]:
    pairs = inspect(env, image)["Config"]["Env"] or []
    return dict(p.split("=", 1) for p in pairs)


def test_cudnn_images_hold_exactly_the_pinned_versions_on_both_platforms(
    tmp_path: Path, cuda: Cuda
) -> None:
    """arm64 takes the key from a workspace file (`cuda_repo_key: ./keys/cuda.asc`), amd64 fetches
    it by NVIDIA's file name from its folder (no `cuda_repo_key`)."""
    version = "cuda-" + uuid.uuid4().hex[:8]
    keys = {"linux/arm64": key_file(cuda, tmp_path / "ws"), "linux/amd64": None}
    pinned = package_names(cuda.example["cuda_dependencies"][CUDA], CUDA)
    image = tag(version)
    try:
        for platform, key in keys.items():
            ws = workspace(tmp_path, manifest(cuda, version, key=key))
            dockerfile = (ws / "generated/gpu/debian12/cudnn/Dockerfile").read_text()
            assert ("COPY keys/cuda.asc /usr/share/keyrings/cuda.asc" in dockerfile) == bool(key)
            built = bake(ws, cuda.env, [target()], extra=on(platform))
            info = inspect(cuda.env, image)
            assert f"{info['Os']}/{info['Architecture']}" == platform
            # every component at exactly its pinned version, though the repository has newer
            # ones, and the cuDNN of CUDA 12 only, though the repository has CUDA 11's as well
            found = installed(cuda.env, image, platform, [*sorted(pinned), "libcudnn*"])
            assert found == pinned, tail(built.stdout + built.stderr)
            assert "libcudnn9-cuda-12" in found
            variables = image_env(cuda.env, image)
            assert variables["CUDA_VERSION"] == CUDA
            assert variables["NVIDIA_REQUIRE_CUDA"].startswith("cuda>=12.6 ")
            # the verify group, against what was built
            check = f"{target()}-verify"
            verified = bake(ws, cuda.env, [check], extra=on(platform), load=False)
            assert f"[{check} " in verified.stdout + verified.stderr

        # A manifest claiming another CUDA version: its verify, run on the image built last
        # (amd64), fails.
        ws = workspace(tmp_path, manifest(cuda, version, cuda=OTHER_CUDA))
        check = f"{target(OTHER_CUDA)}-verify"
        claim = [*on("linux/amd64"), "--set", f"{check}.contexts.image=docker-image://{image}"]
        failed = bake(ws, cuda.env, [check], extra=claim, load=False, check=False)
        assert failed.returncode != 0
        assert f"verify: CUDA {CUDA}, expected {OTHER_CUDA}" in failed.stdout + failed.stderr
    finally:
        remove_images(cuda.env, [image])


def failed_build(tmp_path: Path, setup: Cuda, text: str) -> str:
    """Bake the linux/amd64 cudnn image of `text`; it must fail. Bake's output."""
    ws = workspace(tmp_path, text)
    proc = bake(ws, setup.env, [target()], extra=on("linux/amd64"), load=False, check=False)
    assert proc.returncode != 0, tail(proc.stdout + proc.stderr)
    return proc.stdout + proc.stderr


def test_a_version_the_repository_lacks_fails_with_apts_message(tmp_path: Path, cuda: Cuda) -> None:
    data = json.loads(json.dumps(cuda.example))
    data["cuda_dependencies"][CUDA]["cudart"] = "12.6.55-1"
    log = failed_build(tmp_path, cuda, manifest(cuda, "lacks", example=data))
    assert "E: Version '12.6.55-1' for 'cuda-cudart-12-6' was not found" in log, tail(log)


def test_a_key_that_does_not_match_fails_with_apts_message(tmp_path: Path, cuda: Cuda) -> None:
    """The key given by URL (`cuda_repo_key`) is another one than the repository signs with."""
    other = tmp_path / "gnupg"
    make_key(other)
    export_key(other, cuda.root / "other.pub")
    text = manifest(cuda, "badkey", key=f"{cuda.url}/other.pub")
    log = failed_build(tmp_path, cuda, text)
    assert "NO_PUBKEY" in log, tail(log)
    assert "debian12/x86_64  InRelease' is not signed" in log, tail(log)


@pytest.mark.parametrize(
    ("workspace_key", "message"),
    [
        # the key copied from the workspace: apt is the first to see the folder missing
        (True, "debian12/x86_64  Release' does not have a Release file"),
        # the key fetched from the missing folder: curl fails first
        (False, "curl: (22) The requested URL returned error: 404"),
    ],
)
def test_a_missing_architecture_folder_fails_with_the_fetchers_message(
    tmp_path: Path, cuda: Cuda, workspace_key: bool, message: str
) -> None:
    """A mirror with the `sbsa` folder only, building for amd64 (`x86_64`)."""
    lacking = cuda.root / "lacking"
    if not lacking.exists():
        shutil.copytree(cuda.root / "repos" / "debian12" / "sbsa", lacking / "debian12" / "sbsa")
    key = key_file(cuda, tmp_path / "ws") if workspace_key else None
    log = failed_build(tmp_path, cuda, manifest(cuda, "lacking", key=key, folder="lacking"))
    assert message in log, tail(log)
