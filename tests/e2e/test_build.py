"""Real builds of the root example workspace on a local Docker engine with BuildKit.

The Debian bookworm `runtime` and `devel` images of model-server (Python 3.11) for linux/amd64,
their `base` built in the same bake run through the `target:` context, and the bookworm runtime
for linux/arm64 under QEMU emulation. Each image must carry its registry tags, the OCI labels,
the right platform, and the Python its tag names.

Needs the engine of scripts/engine.sh (run `eval "$(scripts/engine.sh start)"` and
`scripts/engine.sh base-images` first); in CI (CI=true) a missing engine fails these tests, locally
it skips them. Then `docker buildx bake verify` checks what was built, and BuildKit's own
linter (`--call check`) has nothing to say about any generated Dockerfile.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from bakegen.pipeline import plan_workspace
from bakegen.plan.build import verify_script
from bakegen.plan.records import DeclaredTest
from testing.engine import (
    RUN_TIMEOUT,
    bake,
    engine_env,
    host_network_file,
    inspect,
    need_base_image,
    python_in,
    remove_images,
    run,
    short_name,
    tail,
)
from testing.helpers import ROOT, run_cli, run_process

PACKAGE = "model-server"
REPO = "docker.io/example/model-server"
RUNTIME = "model-server-runtime-debian12-py311"
DEVEL = "model-server-devel-debian12-py311"
BASE = "model-server-base-debian12-py311"


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    return engine_env()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, engine: dict[str, str]) -> Path:
    """A rendered copy of the root example workspace (manifest/ and templates/)."""
    need_base_image(engine, "debian:bookworm-slim", "linux/amd64", "linux/arm64")
    ws = tmp_path_factory.mktemp("e2e") / "example"
    ws.mkdir()
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, ws / name)
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    return ws


@pytest.fixture
def version() -> str:
    """A VERSION of this run's own, so its tags are new and nothing else's are touched."""
    return "e2e-" + uuid.uuid4().hex[:10]


def check_image(env: dict[str, str], tag: str, *, version: str, title: str, platform: str) -> None:
    info = inspect(env, tag)
    assert short_name(tag) in info["RepoTags"], info["RepoTags"]
    assert f"{info['Os']}/{info['Architecture']}" == platform
    labels = info["Config"]["Labels"] or {}
    assert labels.get("org.opencontainers.image.version") == version, labels
    assert labels.get("org.opencontainers.image.title") == title, labels
    assert "org.opencontainers.image.revision" in labels
    assert python_in(env, tag, platform).startswith("Python 3.11."), tag


def test_bookworm_runtime_and_devel_amd64_with_base_in_the_same_run(
    example: Path, engine: dict[str, str], version: str
) -> None:
    env = {**engine, "VERSION": version, "HUB_PASSWORD": "x"}
    env.pop("GHCR_TOKEN", None)
    runtime = f"{REPO}:{version}-python3.11-bookworm-runtime"
    devel = f"{REPO}:devel-python3.11-bookworm"
    try:
        out = bake(example, env, [RUNTIME, DEVEL], extra=["--set", "*.platform=linux/amd64"])
        log = out.stdout + out.stderr
        # The base is no target of its own here: bake built it for both through target:BASE.
        assert f"[{BASE} " in log, tail(log)
        check_image(
            env, runtime, version=version, title=f"{PACKAGE} runtime", platform="linux/amd64"
        )
        check_image(env, devel, version=version, title=f"{PACKAGE} devel", platform="linux/amd64")
        entry = inspect(env, runtime)["Config"]["Entrypoint"]
        assert entry == ["/usr/local/bin/entrypoint.sh"]
        gcc = run(["docker", "run", "--rm", "--network", "none", devel, "gcc", "--version"], env)
        assert gcc.stdout.startswith("gcc")
    finally:
        remove_images(engine, [runtime, devel])


def test_bookworm_runtime_arm64_under_emulation(
    example: Path, engine: dict[str, str], version: str
) -> None:
    env = {**engine, "VERSION": version, "HUB_PASSWORD": "x"}
    env.pop("GHCR_TOKEN", None)
    runtime = f"{REPO}:{version}-python3.11-bookworm-runtime"
    try:
        bake(example, env, [RUNTIME], extra=["--set", "*.platform=linux/arm64"])
        check_image(
            env, runtime, version=version, title=f"{PACKAGE} runtime", platform="linux/arm64"
        )
        arch = run(
            [
                *("docker", "run", "--rm", "--network", "none", "--platform", "linux/arm64"),
                *(runtime, "python3", "-c", "import platform; print(platform.machine())"),
            ],
            env,
        )
        assert arch.stdout.strip() == "aarch64"
    finally:
        remove_images(engine, [runtime])


def test_verify_group_passes_on_what_was_built_and_fails_on_a_wrong_claim(
    example: Path, engine: dict[str, str]
) -> None:
    checks = [f"{RUNTIME}-verify", f"{DEVEL}-verify"]
    net = host_network_file(example, engine, checks)
    cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
    cmd += ["--allow=network.host", "--progress=plain", "--set", "*.platform=linux/amd64"]
    ok = run([*cmd, *checks], engine, cwd=example, timeout=1800)
    log = ok.stdout + ok.stderr
    # Each check ran now or ran before on exactly these inputs (a failed RUN is never cached);
    # the wrong claim below proves a check can fail.
    for check in checks:
        assert f"[{check} " in log, tail(log)
    wrong = [*cmd, "--set", f"{RUNTIME}-verify.args.EXPECT_PYTHON=3.12", f"{RUNTIME}-verify"]
    failed = run(wrong, engine, cwd=example, timeout=1800, check=False)
    assert failed.returncode != 0
    assert "verify: Python 3.11, expected 3.12" in failed.stdout + failed.stderr


def test_declared_tests_run_in_the_verify_group(example: Path, engine: dict[str, str]) -> None:
    """The example's own tests are in its verify targets; a passing test runs (a name of this
    run's own, so nothing is cached) and a failing one fails the check, naming itself."""
    plan = plan_workspace(example)
    check = next(v for v in plan.verifies if v.image == RUNTIME)
    assert "bakegen_test entrypoint" in dict(check.args)["TESTS"]
    net = host_network_file(example, engine, [check.target])
    cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(net)]
    cmd += ["--allow=network.host", "--progress=plain", "--set", "*.platform=linux/amd64"]
    fresh = f"fresh-{uuid.uuid4().hex[:8]}"
    passing = verify_script(
        (
            DeclaredTest(fresh, "test -x /usr/local/bin/entrypoint.sh"),
            DeclaredTest("utf8", "python3 -V"),
        )
    )
    ok = run(
        [*cmd, "--set", f"{check.target}.args.TESTS={passing}", check.target],
        engine,
        cwd=example,
        timeout=1800,
    )
    log = ok.stdout + ok.stderr
    assert f"verify: test {fresh}" in log, tail(log)
    assert "verify: test utf8" in log, tail(log)
    failing = verify_script(
        (DeclaredTest(fresh, "true"), DeclaredTest("broken", "test -e /nonexistent"))
    )
    bad = run(
        [*cmd, "--set", f"{check.target}.args.TESTS={failing}", check.target],
        engine,
        cwd=example,
        timeout=1800,
        check=False,
    )
    assert bad.returncode != 0
    assert "verify: test broken failed" in bad.stdout + bad.stderr, tail(bad.stdout + bad.stderr)


def test_buildkit_checks_report_nothing_on_any_generated_dockerfile(
    example: Path, engine: dict[str, str]
) -> None:
    """`bake --call check` over every target (BuildKit's linter needs no network).

    Registry base images cannot be pulled here, so the local debian:bookworm-slim stands in for
    them and for the `base` contexts: the lint is of bakegen's Dockerfiles, not of those images.
    """
    plan = plan_workspace(example)
    stand_in = "docker-image://debian:bookworm-slim"
    sets = ["--set", f"*.contexts.base={stand_in}", "--set", f"*.contexts.image={stand_in}"]
    for df in plan.dockerfiles:
        for image in plan.images:
            if image.dockerfile == df.path and not df.from_parent:
                sets += ["--set", f"{image.target}.contexts.{df.base_image}={stand_in}"]
    targets = [i.target for i in plan.images] + [v.target for v in plan.verifies]
    out = run(["docker", "buildx", "bake", "--call", "check", *sets, *targets], engine, cwd=example)
    log = out.stdout + out.stderr
    assert log.count("Check complete, no warnings found.") == len(targets), tail(log)
    assert "WARNING" not in log


def test_smoke_runs_declared_tests_in_the_built_image(
    example: Path, engine: dict[str, str], version: str, tmp_path: Path
) -> None:
    """`bakegen smoke` runs the example's own tests in the built runtime image (they pass), and a
    test that fails makes it exit 1, naming the test."""
    env = {**engine, "VERSION": version, "HUB_PASSWORD": "x", "PYTHONPATH": str(ROOT)}
    env.pop("GHCR_TOKEN", None)
    runtime = f"{REPO}:{version}-python3.11-bookworm-runtime"
    try:
        bake(example, env, [RUNTIME], extra=["--set", "*.platform=linux/amd64"])
        ok = run_process("smoke", RUNTIME, cwd=example, env=env, timeout=RUN_TIMEOUT)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert ok.stdout.splitlines() == [
            "target\ttest\tresult\tdetail",
            f"{RUNTIME}\tutf8\tpass\texit 0",
            f"{RUNTIME}\tentrypoint\tpass\texit 0",
        ]
        broken = shutil.copytree(example / "manifest", tmp_path / "ws" / "manifest")
        shutil.copytree(example / "templates", tmp_path / "ws" / "templates")
        manifest = broken / "manifest.yml"
        text = manifest.read_text(encoding="utf-8")
        head, tests, rest = text.partition("\n    tests:")
        line, _, rest = rest.partition("\n")
        broken_test = "      - name: broken\n        run: test -e /nonexistent"
        manifest.write_text(f"{head}{tests}{line}\n{broken_test}\n{rest}", encoding="utf-8")
        failed = run_process("smoke", RUNTIME, cwd=tmp_path / "ws", env=env, timeout=RUN_TIMEOUT)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert f"{RUNTIME}\tbroken\tfail\texit 1" in failed.stdout.splitlines()
    finally:
        remove_images(engine, [runtime])
