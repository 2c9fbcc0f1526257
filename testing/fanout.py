"""A play of the generated workflow's build waves and merge jobs on the local engine.

It reads the workflow bakegen wrote and runs, job after job in the order of their `needs`, the
jobs an event runs (by their `if`): each matrix entry's steps one after another, the `run:`
and `shell: python` steps as their very text, `${{ }}` expressions evaluated from the contexts
a runner has. Actions are played by what they do here: checkout, setup and login actions do
nothing (the workspace is checked out, the engine's builder is the docker driver, the loopback
registry takes pushes without a login), artifacts are folders of the play, docker/bake-action
runs `docker buildx bake` with the step's files, targets and settings plus the host network
the engine needs. The check job (bakegen's own checks) and the GPU smoke job are not played.
"""

from __future__ import annotations

import fnmatch
import glob
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testing.expression import evaluate, interpolate

NOT_PLAYED = ("check", "smoke")


@dataclass
class Build:
    """One bake of one step: the job, its targets."""

    job: str
    targets: tuple[str, ...]
    step: str


@dataclass
class Played:
    builds: list[Build] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)  # lines of "built before" the builds said
    failed: list[str] = field(default_factory=list)  # job/entry/step that failed
    logs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def image_builds(self) -> list[Build]:
        return [b for b in self.builds if b.step == "bake"]


@dataclass
class Play:
    workflow: Mapping[str, Any]
    workspace: Path
    tmp: Path
    env: Mapping[str, str]  # the process environment: PATH, DOCKER_HOST, ...
    github: Mapping[str, Any]
    secrets: Mapping[str, str]
    bake_args: tuple[str, ...] = ()
    skip_run: tuple[str, ...] = ("pip install",)  # run: steps replaced by nothing

    def run(self) -> Played:
        played = Played()
        start = time.monotonic()
        artifacts = self.tmp / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        results: dict[str, str] = dict.fromkeys(NOT_PLAYED, "success")
        for name in _order(self.workflow["jobs"]):
            if name in NOT_PLAYED:
                continue
            job = self.workflow["jobs"][name]
            contexts = self._contexts(results, job)
            if not evaluate(job.get("if", "success()"), contexts):
                results[name] = "skipped"
                continue
            ok = all(
                self._entry(name, job, entry, n, played)
                for n, entry in enumerate(job["strategy"]["matrix"]["include"])
            )
            results[name] = "success" if ok else "failure"
        played.seconds = time.monotonic() - start
        return played

    def _contexts(self, results: Mapping[str, str], job: Mapping[str, Any]) -> dict[str, Any]:
        needs = job.get("needs") or []
        return {
            "github": dict(self.github),
            "secrets": dict(self.secrets),
            "needs": {n: {"result": results.get(n, "skipped"), "outputs": {}} for n in needs},
            "runner": {"temp": str(self.tmp / "runner")},
            "env": {},
            "steps": {},
            "matrix": {},
            "strategy": {},
            "_status": "success",
        }

    def _entry(
        self,
        name: str,
        job: Mapping[str, Any],
        entry: Mapping[str, Any],
        index: int,
        played: Played,
    ) -> bool:
        runner = self.tmp / "runner"
        shutil.rmtree(runner, ignore_errors=True)
        runner.mkdir(parents=True)
        contexts = self._contexts({}, job)
        contexts["needs"] = {
            n: {"result": "success", "outputs": {"affected": self.github.get("affected", "")}}
            for n in job.get("needs") or []
        }
        contexts["matrix"] = dict(entry)
        contexts["strategy"] = {"job-index": index}
        env = dict(self.env)
        env.update({k: str(interpolate(v, contexts)) for k, v in (job.get("env") or {}).items()})
        contexts["env"] = env
        for n, step in enumerate(job["steps"]):
            if not evaluate(step.get("if", "success()"), {**contexts, "env": env}):
                continue
            label = f"{name}[{entry.get('targets', entry.get('name'))}] step {n} {step.get('name') or step.get('uses')}"
            outputs = self._step(name, step, env, contexts, played)
            if outputs is None:
                played.failed.append(label)
                contexts["_status"] = "failure"
                return False
            if step.get("id"):
                contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": "success"}
        return True

    def _step(
        self,
        job: str,
        step: Mapping[str, Any],
        env: dict[str, str],
        contexts: dict[str, Any],
        played: Played,
    ) -> dict[str, str] | None:
        step_env = {
            **env,
            **{
                k: str(interpolate(v, {**contexts, "env": env}))
                for k, v in (step.get("env") or {}).items()
            },
        }
        uses = str(step.get("uses", "")).split("@")[0]
        with_ = {
            k: str(interpolate(v, {**contexts, "env": env}))
            for k, v in (step.get("with") or {}).items()
        }
        if uses == "docker/bake-action":
            return self._bake(job, step, with_, step_env, played)
        if uses == "actions/upload-artifact":
            return self._upload(with_)
        if uses == "actions/download-artifact":
            return self._download(with_)
        if uses:
            return {}  # checkout, setup-*, login: nothing to do here
        return self._run(step, step_env, env, contexts, played)

    def _run(
        self,
        step: Mapping[str, Any],
        step_env: dict[str, str],
        env: dict[str, str],
        contexts: dict[str, Any],
        played: Played,
    ) -> dict[str, str] | None:
        text = str(step["run"])
        if any(s in text for s in self.skip_run):
            return {}
        if step.get("shell") != "python":
            text = str(interpolate(text, {**contexts, "env": env}))
        files = {
            k: self.tmp / "runner" / f"{k.lower()}-{time.monotonic_ns()}"
            for k in ("GITHUB_OUTPUT", "GITHUB_ENV")
        }
        for f in files.values():
            f.write_text("", encoding="utf-8")
        cmd = (
            [sys.executable, "-c", text]
            if step.get("shell") == "python"
            else ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", text]
        )
        proc = subprocess.run(
            cmd,
            cwd=self.workspace,
            env={
                **step_env,
                **{k: str(v) for k, v in files.items()},
                "RUNNER_TEMP": str(self.tmp / "runner"),
            },
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        played.logs.append(proc.stdout + proc.stderr)
        played.reused += [line for line in proc.stdout.splitlines() if "built before" in line]
        if proc.returncode != 0:
            played.logs.append(f"exit {proc.returncode}: {text[:200]}")
            return None
        env.update(_outputs(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        return _outputs(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))

    def _bake(
        self,
        job: str,
        step: Mapping[str, Any],
        with_: Mapping[str, str],
        env: dict[str, str],
        played: Played,
    ) -> dict[str, str] | None:
        targets = tuple(t for t in re.split(r"[,\s]+", with_.get("targets", "")) if t)
        metadata = self.tmp / "runner" / f"metadata-{time.monotonic_ns()}.json"
        cmd = ["docker", "buildx", "bake", "--progress=plain", f"--metadata-file={metadata}"]
        for f in with_.get("files", "docker-bake.hcl").split():
            cmd += ["-f", f]
        cmd += list(self.bake_args)
        cmd += [f"--allow={a}" for a in re.split(r"[,\n]", with_.get("allow", "")) if a.strip()]
        cmd += [f"--set={line}" for line in with_.get("set", "").splitlines() if line.strip()]
        proc = subprocess.run(
            [*cmd, *targets],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        played.builds.append(Build(job, targets, str(step.get("id") or "verify")))
        played.logs.append(" ".join(cmd) + "\n" + proc.stderr[-3000:])
        if proc.returncode != 0:
            return None
        return {"metadata": metadata.read_text(encoding="utf-8") if metadata.is_file() else "{}"}

    def _upload(self, with_: Mapping[str, str]) -> dict[str, str] | None:
        store = self.tmp / "artifacts" / with_["name"]
        if store.exists():
            return None  # GitHub refuses a second artifact of one name
        found = [Path(p) for pattern in with_["path"].split() for p in _glob(pattern)]
        if not found:
            return None if with_.get("if-no-files-found") == "error" else {}
        store.mkdir(parents=True)
        for path in found:
            target = store / path.name
            shutil.copytree(path, target) if path.is_dir() else shutil.copy2(path, target)
        return {}

    def _download(self, with_: Mapping[str, str]) -> dict[str, str] | None:
        into = Path(with_["path"])
        into.mkdir(parents=True, exist_ok=True)
        for store in sorted((self.tmp / "artifacts").iterdir()):
            if fnmatch.fnmatchcase(store.name, with_.get("pattern", with_.get("name", ""))):
                shutil.copytree(store, into, dirs_exist_ok=True)
        return {}


def _glob(pattern: str) -> list[str]:
    return sorted(glob.glob(pattern))


def _outputs(text: str) -> dict[str, str]:
    """A GITHUB_OUTPUT or GITHUB_ENV file: name=value lines and name<<DELIMITER blocks."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, _, delimiter = line.partition("<<")
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            found[name] = "\n".join(block)
        elif "=" in line:
            name, _, value = line.partition("=")
            found[name] = value
    return found


def _order(jobs: Mapping[str, Any]) -> list[str]:
    """The jobs in an order their `needs` allow (by name among those ready)."""
    done: list[str] = []
    left = dict(jobs)
    while left:
        ready = sorted(n for n, j in left.items() if set(_needs(j)) <= set(done))
        assert ready, f"needs that never resolve: {sorted(left)}"
        done.append(ready[0])
        del left[ready[0]]
    return done


def _needs(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)
