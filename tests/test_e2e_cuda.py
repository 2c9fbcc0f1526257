"""CUDA images built for real, linux/amd64 and linux/arm64 (emulated), against a CUDA repository
on loopback: dummy packages named and versioned as NVIDIA's (each also at a newer version that
must not be chosen), a signed `InRelease` in each architecture's folder (`x86_64`, `sbsa`) and the
key where the Debian templates fetch it (tests/cuda_repo.py). This is also what an internal
mirror for air-gapped builders looks like.

The workspace is the example's (its templates, its release spec) with one package of cudnn
images on Debian 12. Needs the engine of scripts/engine.sh and gpg (both installed by it); in CI
a missing engine fails these tests, locally it skips them.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cuda_repo import export_key, make_key, make_repository, package_names, serve
from tests.engine import (
    BUILD_TIMEOUT,
    bake,
    engine_env,
    host_network_file,
    inspect,
    need_base_image,
    remove_images,
    run,
    tail,
)
from tests.helpers import ROOT, need_tool, run_cli

pytestmark = pytest.mark.engine

CUDA = "12.6.3"
OTHER_CUDA = "12.4.1"
PLATFORMS = ("linux/amd64", "linux/arm64")
REPO = "docker.io/example/gpu"


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    env = engine_env()
    need_base_image(env, "debian:bookworm-slim", *PLATFORMS)
    need_tool("gpg", "run scripts/engine.sh install (it installs gnupg)")
    need_tool("dpkg-deb", "apt-get install dpkg")
    return env


@pytest.fixture(scope="module")
def example_manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest" / "manifest.yml").read_text())
    return data


@pytest.fixture(scope="module")
def mirror(
    tmp_path_factory: pytest.TempPathFactory, example_manifest: dict[str, Any]
) -> Iterator[tuple[Path, str]]:
    """The repository of both CUDA versions of the example, served; (its folder, its URL)."""
    root = tmp_path_factory.mktemp("cuda") / "www"
    root.mkdir()
    make_repository(root / "repos", "debian12", example_manifest["cuda_dependencies"])
    with serve(root) as url:
        yield root, url


def manifest(example: dict[str, Any], url: str, version: str, cuda: str = CUDA, **top: Any) -> str:
    """The example manifest with one package, `gpu`, of cudnn images on Debian 12."""
    data = {k: v for k, v in example.items() if k not in ("repository", "packages")}
    data["version"] = version
    data["cuda_repo_url"] = f"{url}/repos"
    data["repository"] = {"hub": {"registry": {"gpu": REPO}}}
    data["release_types"] = {"cudnn": {"exclude_python": []}}
    data["packages"] = {"gpu": {"cudnn": [{"debian": ["12"]}]}}
    debian12 = dict(example["releases"]["debian"]["12"], cuda_prefix_url="debian12", cuda=[cuda])
    data["releases"] = {"debian": {"12": debian12}}
    data.update(top)
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


def target(cuda: str = CUDA) -> str:
    major, minor = cuda.split(".")[:2]
    return f"gpu-cudnn-debian12-py311-cuda{major}-{minor}"


def tag(version: str) -> str:
    return f"{REPO}:{version}-python3.11-bookworm-cudnn"


def installed(env: dict[str, str], image: str, platform: str, names: list[str]) -> dict[str, str]:
    """Package -> version installed in the image, for the names asked (no network needed)."""
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
    tmp_path: Path,
    engine: dict[str, str],
    mirror: tuple[Path, str],
    example_manifest: dict[str, Any],
) -> None:
    _root, url = mirror
    version = "cuda-" + uuid.uuid4().hex[:8]
    ws = workspace(tmp_path, manifest(example_manifest, url, version))
    components = example_manifest["cuda_dependencies"][CUDA]
    pinned = package_names(components, CUDA)
    assert "libcudnn9-cuda-12" in pinned  # the cuDNN of CUDA's major version
    image = tag(version)
    try:
        for platform in PLATFORMS:
            built = bake(ws, engine, [target()], extra=["--set", f"*.platform={platform}"])
            log = built.stdout + built.stderr
            info = inspect(engine, image)
            assert f"{info['Os']}/{info['Architecture']}" == platform
            # every component at exactly its pinned version, though the repository has newer
            assert installed(engine, image, platform, sorted(pinned)) == pinned, tail(log)
            variables = image_env(engine, image)
            assert variables["CUDA_VERSION"] == CUDA
            assert variables["NVIDIA_REQUIRE_CUDA"].startswith("cuda>=12.6 ")
            # the verify group, against what was built
            checks = [f"{target()}-verify"]
            net = host_network_file(ws, engine, checks)
            cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
            cmd += ["--allow=network.host", "--progress=plain", "--set", f"*.platform={platform}"]
            ok = run([*cmd, *checks], engine, cwd=ws, timeout=BUILD_TIMEOUT)
            assert f"[{checks[0]} " in ok.stdout + ok.stderr

        # A manifest claiming another CUDA version: its verify, run on the image built above
        # (amd64, the last one loaded is arm64: load amd64 again from the cache), fails.
        bake(ws, engine, [target()], extra=["--set", "*.platform=linux/amd64"])
        claim = manifest(example_manifest, url, version, cuda=OTHER_CUDA)
        ws = workspace(tmp_path, claim)
        check = f"{target(OTHER_CUDA)}-verify"
        net = host_network_file(ws, engine, [check])
        wrong = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
        wrong += ["--allow=network.host", "--progress=plain", "--set", "*.platform=linux/amd64"]
        wrong += ["--set", f"{check}.contexts.image=docker-image://{image}", check]
        failed = run(wrong, engine, cwd=ws, timeout=BUILD_TIMEOUT, check=False)
        assert failed.returncode != 0
        assert f"verify: CUDA {CUDA}, expected {OTHER_CUDA}" in failed.stdout + failed.stderr
    finally:
        remove_images(engine, [image])


def failed_build(
    tmp_path: Path, engine: dict[str, str], text: str, platform: str = "linux/amd64"
) -> str:
    """Bake the cudnn image of `text` for `platform`; it must fail. Bake's output."""
    ws = workspace(tmp_path, text)
    net = host_network_file(ws, engine, [target()])
    cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
    cmd += ["--allow=network.host", "--progress=plain", "--set", f"*.platform={platform}"]
    proc = run([*cmd, target()], engine, cwd=ws, timeout=BUILD_TIMEOUT, check=False)
    assert proc.returncode != 0, tail(proc.stdout + proc.stderr)
    return proc.stdout + proc.stderr


def test_a_version_the_repository_lacks_fails_with_apts_message(
    tmp_path: Path,
    engine: dict[str, str],
    mirror: tuple[Path, str],
    example_manifest: dict[str, Any],
) -> None:
    _root, url = mirror
    data = json.loads(json.dumps(example_manifest))
    data["cuda_dependencies"][CUDA]["cudart"] = "12.6.55-1"
    log = failed_build(tmp_path, engine, manifest(data, url, "lacks"))
    assert "E: Version '12.6.55-1' for 'cuda-cudart-12-6' was not found" in log, tail(log)


def test_a_key_that_does_not_match_fails_with_apts_message(
    tmp_path: Path,
    engine: dict[str, str],
    mirror: tuple[Path, str],
    example_manifest: dict[str, Any],
) -> None:
    """The key given by URL (`cuda_repo_key`) is another one than the repository signs with."""
    root, url = mirror
    other = tmp_path / "gnupg"
    make_key(other)
    export_key(other, root / "other.pub")
    text = manifest(example_manifest, url, "badkey", cuda_repo_key=f"{url}/other.pub")
    log = failed_build(tmp_path, engine, text)
    assert "NO_PUBKEY" in log, tail(log)
    assert "debian12/x86_64  InRelease' is not signed" in log, tail(log)


def test_a_missing_architecture_folder_fails_with_apts_message(
    tmp_path: Path,
    engine: dict[str, str],
    mirror: tuple[Path, str],
    example_manifest: dict[str, Any],
) -> None:
    """A mirror without the `x86_64` folder; its key is a workspace file (`cuda_repo_key:
    ./keys/cuda.asc`, copied into the build), so apt is the first to see the folder missing."""
    root, url = mirror
    lacking = root / "lacking"
    shutil.copytree(root / "repos" / "debian12" / "sbsa", lacking / "debian12" / "sbsa")
    keys = tmp_path / "ws" / "keys"
    keys.mkdir(parents=True)
    shutil.copy(root / "repos" / "debian12" / "sbsa" / "3bf863cc.pub", keys / "cuda.asc")
    text = manifest(example_manifest, url, "lacking", cuda_repo_key="./keys/cuda.asc")
    text = text.replace(f"{url}/repos", f"{url}/lacking")
    log = failed_build(tmp_path, engine, text)
    assert "debian12/x86_64  Release' does not have a Release file" in log, tail(log)
