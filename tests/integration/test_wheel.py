"""The release works outside the checkout: `python -m build` of the source (the files git
knows, copied away from the checkout) gives an sdist and a wheel built from it, `twine check`
passes, the wheel carries every resource, and in a fresh virtual environment outside the
checkout the installed `bakegen` writes a workspace (`init`), renders and validates it and
writes its workflow (`ci github`), which installs exactly this version."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from bakegen import __version__
from bakegen.commands.init import starter_files
from testing.helpers import ROOT, unavailable

HOW = "pip install -e '.[test]' (scripts/test.sh does)"
RESOURCES = (
    "bakegen/resources/manifest.schema.json",
    "bakegen/resources/defaults.yaml",
    "bakegen/resources/docker-bake.hcl.j2",
    "bakegen/resources/verify.Dockerfile",
    "bakegen/resources/github/merge.py",
)


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def source_copy(dest: Path) -> Path:
    """The files git knows (tracked, or new and not ignored), copied to `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in ("build", "twine"):
        if importlib.util.find_spec(module) is None:
            unavailable(f"{module} not installed; {HOW}")
    if shutil.which("git") is None:
        unavailable("git not found; apt-get install git")
    source = source_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, source, cwd=source)
    return out


def test_build_gives_an_sdist_and_a_wheel_that_twine_accepts(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [f"bakegen-{__version__}-py3-none-any.whl", f"bakegen-{__version__}.tar.gz"]
    said = run(sys.executable, "-m", "twine", "check", "--strict", *dist.iterdir(), cwd=dist)
    assert said.count("PASSED") == 2, said


def test_the_wheel_carries_every_resource(dist: Path) -> None:
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"bakegen-{__version__}.dist-info/METADATA").decode()
    missing = [r for r in RESOURCES if r not in names]
    missing += [
        f"bakegen/resources/init/{rel}"
        for rel in starter_files()
        if f"bakegen/resources/init/{rel}" not in names
    ]
    assert missing == []
    assert f"Version: {__version__}" in metadata
    assert not [n for n in names if n.startswith(("tests/", "testing/", "scripts/", "docs/"))]


def test_the_installed_wheel_works_outside_the_checkout(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python, bakegen = venv / "bin" / "python", venv / "bin" / "bakegen"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {"BAKEGEN_CACHE": str(tmp_path / "cache"), "PATH": f"{venv / 'bin'}:{env['PATH']}"}
    run(python, "-m", "pip", "install", "--quiet", next(dist.glob("*.whl")), cwd=tmp_path, env=env)
    where = run(python, "-c", "import bakegen; print(bakegen.__file__)", cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv), where
    assert run(bakegen, "--version", cwd=tmp_path, env=env).strip() == __version__

    said = run(bakegen, "init", "ws", cwd=tmp_path, env=env)
    assert "created ws/manifest/manifest.yml" in said
    ws = tmp_path / "ws"
    assert "3 images" in run(bakegen, "-C", ws, "render", cwd=tmp_path, env=env)
    assert (ws / "generated" / "app" / "debian12" / "runtime" / "Dockerfile").is_file()
    assert (ws / "generated" / "_verify" / "Dockerfile").is_file()
    assert "ok: 5 targets" in run(bakegen, "-C", ws, "validate", cwd=tmp_path, env=env)
    run(bakegen, "-C", ws, "render", "--check", cwd=tmp_path, env=env)
    assert "created" in run(bakegen, "ci", "github", "-C", ws, cwd=tmp_path, env=env)
    workflow = yaml.safe_load((ws / ".github" / "workflows" / "bakegen.yml").read_text())
    installs = [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "pip install" in step.get("run", "")
    ]
    assert installs
    assert all(run_line == f"python -m pip install bakegen=={__version__}" for run_line in installs)
    schema = run(bakegen, "schema", cwd=tmp_path, env=env)
    assert '"$schema"' in schema
