"""The Azure ML inference example (examples/azureml-inference) built and served for real.

bakegen renders the workspace; one `docker buildx bake` builds inference-base (Debian bookworm,
Python 3.11 venv, nginx, azmlinfsrv installed with pip through the ca-bundle build secret) and
sklearn-inference FROM it; then the framework image trains a tiny scikit-learn model, serves it
with the sample entry script (app/score.py), and answers real HTTP scoring requests, directly from
azmlinfsrv and through nginx.

The engine tests need scripts/engine.sh's engine (see tests/test_e2e_build.py): in CI a missing
engine fails them, locally they skip. The golden-file tests are in tests/unit/test_golden_azureml.py.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.engine import (
    bake,
    engine_env,
    inspect,
    need_base_image,
    remove_images,
    run,
)
from testing.helpers import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "azureml-inference"
BASE_BASE_TARGET = "inference-base-base-debian12-py311"
BASE_TARGET = "inference-base-runtime-debian12-py311"
SKLEARN_TARGET = "sklearn-inference-runtime-debian12-py311"
READY_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http(method: str, url: str, body: object = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    return engine_env()


@pytest.fixture(scope="module")
def images(
    engine: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Render a copy of the example and build both images in one bake run; remove them after."""
    need_base_image(engine, "debian:bookworm-slim", "linux/amd64")
    ws = tmp_path_factory.mktemp("azureml") / "azureml-inference"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("generated", "docker-bake.hcl"))
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    version = "e2e-" + uuid.uuid4().hex[:10]
    tags = {
        "inference-base": f"inference-base:{version}-python3.11-bookworm",
        "sklearn-inference": f"sklearn-inference:{version}-python3.11-bookworm",
        "version": version,
    }
    env = {**engine, "VERSION": version}
    try:
        out = bake(
            ws,
            env,
            [BASE_TARGET, SKLEARN_TARGET],
            allow=("network.host", "fs.read=/etc/ssl/certs"),
        )
        # One run: the base release type, no target of its own, came in through target:.
        assert f"[{BASE_BASE_TARGET} " in out.stdout + out.stderr
        yield tags
    finally:
        remove_images(engine, [tags["inference-base"], tags["sklearn-inference"]])


def test_images_have_tags_labels_and_the_server(
    engine: dict[str, str], images: dict[str, str]
) -> None:
    for package in ("inference-base", "sklearn-inference"):
        info = inspect(engine, images[package])
        labels = info["Config"]["Labels"] or {}
        assert labels["org.opencontainers.image.version"] == images["version"]
        assert labels["org.opencontainers.image.title"] == f"{package} runtime"
        assert f"{info['Os']}/{info['Architecture']}" == "linux/amd64"
        assert info["Config"]["User"] == "1000:1000"  # dockeruser
        assert info["Config"]["Entrypoint"] == [
            "/usr/bin/tini",
            "--",
            "/usr/local/bin/azureml-serve",
        ]
    versions = run(
        [
            *("docker", "run", "--rm", "--network", "none", images["sklearn-inference"]),
            "python3",
            "-c",
            "import sys, sklearn, azureml_inference_server_http as s; "
            "print(sys.version.split()[0], sklearn.__version__, s.__version__)",
        ],
        engine,
    ).stdout.split()
    assert versions[0].startswith("3.11.")
    assert versions[1:] == ["1.9.1", "1.5.1"]
    # The CA bundle was a build secret: mounted for the pip steps only, in no layer.
    run(
        [
            *("docker", "run", "--rm", "--network", "none", images["sklearn-inference"]),
            *("sh", "-c", "! test -e /run/secrets/ca-bundle"),
        ],
        engine,
    )


def test_scoring_request_through_azmlinfsrv_and_nginx(
    engine: dict[str, str], images: dict[str, str], tmp_path: Path
) -> None:
    image = images["sklearn-inference"]
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE / "app", app)
    model = tmp_path / "model"
    model.mkdir()
    for path in (tmp_path, app, model, *app.iterdir()):
        path.chmod(0o755)
    mounts = ["-v", f"{app}:/var/azureml-app:ro"]
    # Train at run time in the framework image itself, into the mounted model folder.
    trained = run(
        [
            *("docker", "run", "--rm", "--network", "none", "--user", "root", *mounts),
            *("-v", f"{model}:/var/azureml-model", image),
            *("python3", "/var/azureml-app/train.py", "/var/azureml-model"),
        ],
        engine,
    )
    assert "coef=[2.0, 3.0]" in trained.stdout, trained.stdout
    port = free_port()
    nginx_port = free_port()
    while nginx_port == port:
        nginx_port = free_port()
    name = "bakegen-e2e-azureml-" + uuid.uuid4().hex[:8]
    try:
        run(
            [
                *("docker", "run", "--detach", "--name", name, "--network", "host", *mounts),
                *("-v", f"{model}:/var/azureml-model:ro"),
                *("-e", f"AZUREML_SERVING_PORT={port}", "-e", f"NGINX_PORT={nginx_port}"),
                *("-e", "AZUREML_MODEL_DIR=/var/azureml-model", image),
            ],
            engine,
        )
        wait_ready(engine, name, f"http://127.0.0.1:{port}/")
        body = {"data": [[1, 2], [0, 0], [-1, 0.5]]}
        status, text = http("POST", f"http://127.0.0.1:{port}/score", body)
        assert status == 200, text
        assert json.loads(text) == {"predictions": [9.0, 1.0, 0.5]}
        status, text = http("POST", f"http://127.0.0.1:{nginx_port}/score", {"data": [[2, 2]]})
        assert status == 200, text
        assert json.loads(text) == {"predictions": [11.0]}
        status, text = http("POST", f"http://127.0.0.1:{port}/score", {"rows": []})
        assert status == 500, text
    except BaseException:
        logs = run(["docker", "logs", name], engine, check=False)
        print(f"docker logs {name}:\n{logs.stdout}\n{logs.stderr}")  # shown with the failure
        raise
    finally:
        run(["docker", "rm", "--force", name], engine, check=False)


def wait_ready(engine: dict[str, str], name: str, url: str) -> None:
    """Poll the liveness probe until it answers 200; fail early if the container exits."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        state = run(
            ["docker", "inspect", "--format", "{{.State.Running}}", name], engine, check=False
        )
        if state.stdout.strip() != "true":
            logs = run(["docker", "logs", name], engine, check=False)
            pytest.fail(f"container {name} exited:\n{logs.stdout}\n{logs.stderr}")
        try:
            status, text = http("GET", url)
            if status == 200:
                return
            last = f"{status} {text[:200]}"
        except OSError as exc:
            last = str(exc)
        time.sleep(1)
    logs = run(["docker", "logs", name], engine, check=False)
    pytest.fail(f"{url} not ready in {READY_TIMEOUT:.0f} s ({last}):\n{logs.stdout}\n{logs.stderr}")
