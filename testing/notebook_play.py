"""The notebook family's workflow played on the engine (testing.fanout.Play): its workspace on
the loopback registry, a push's play from a clean runner, and one template edit. Shared by
tests/e2e/test_fanout.py and benchmarks/fanout.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from testing.engine import host_network_file
from testing.fanout import Play, Played
from testing.helpers import run_cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "notebook-family"
LOOPBACK = "127.0.0.1:5555"
EDITED = "images/minimal-notebook/Dockerfile.j2"


def _git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True, check=True).stdout


def notebook_workspace(tmp: Path, engine: Mapping[str, str], repository: str) -> Path:
    """examples/notebook-family in `tmp`, its images on the loopback registry under
    `repository` (a namespace of its own per play), rendered, its workflow written, committed."""
    ws = tmp / "notebook-family"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("generated", "docker-bake.hcl"))
    for manifest in (ws / "manifest").glob("*.yml"):
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(
            text.replace("docker.io/example-stacks/", f"{LOOPBACK}/{repository}/"),
            encoding="utf-8",
        )
    for args in (("render",), ("ci", "github")):
        result = run_cli(*args, cwd=ws)
        assert result.code == 0, result.err
    _git(ws, "init", "-q")
    _git(ws, "-c", "user.name=play", "-c", "user.email=play@example.com", "add", "-A")
    _git(ws, "-c", "user.name=play", "-c", "user.email=play@example.com", "commit", "-qm", "play")
    printed = json.loads(
        subprocess.run(
            ["docker", "buildx", "bake", "--print", "default", "verify"],
            cwd=ws,
            env=dict(engine),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    net = host_network_file(ws, dict(engine), sorted(printed["target"]))
    shutil.move(net, tmp / "host-network.json")
    return ws


def push_play(ws: Path, tmp: Path, engine: Mapping[str, str], *, event: str = "push") -> Played:
    """The workflow's jobs of a push to main (or of a pull request), played from a clean runner
    and artifact store in `tmp`."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    workflow = yaml.safe_load((ws / ".github/workflows/bakegen.yml").read_text(encoding="utf-8"))
    shim = tmp / "bin" / "bakegen"
    shim.parent.mkdir()
    root = Path(__file__).resolve().parents[1]
    shim.write_text(
        f'#!/bin/sh\nPYTHONPATH="{root}" exec "{sys.executable}" -m bakegen "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    env = {**engine, "PATH": f"{shim.parent}{os.pathsep}{engine.get('PATH', os.defpath)}"}
    sha = _git(ws, "rev-parse", "HEAD").strip()
    affected = ""
    if event == "pull_request":
        affected = ",".join(
            subprocess.run(
                ["bakegen", "affected", "--since", "HEAD"],
                cwd=ws,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        )
    github = {
        "event_name": event,
        "ref": "refs/heads/main",
        "ref_type": "branch",
        "ref_name": "main",
        "sha": sha,
        "server_url": "https://github.com",
        "repository": "example/stacks",
        "actor": "play",
        "affected": affected,
    }
    net = ws.parent / "host-network.json"
    play = Play(
        workflow,
        ws,
        tmp,
        env,
        github,
        {"HUB_TOKEN": "play", "HUB_USER": "play"},
        bake_args=("-f", str(net), "--allow=network.host"),
    )
    return play.run()


def edit_template(ws: Path) -> None:
    """One template edit that changes what the image holds, then a render."""
    path = ws / EDITED
    path.write_text(
        path.read_text(encoding="utf-8") + "RUN echo edited >> /opt/notebook/chain.txt\n",
        encoding="utf-8",
    )
    assert run_cli("render", cwd=ws).code == 0
