"""Build timings (not a test): one `docker build` per Dockerfile against one `docker buildx bake`.

    eval "$(BAKEGEN_ENGINE_STATE=/tmp/bakegen-bench scripts/engine.sh start)"   # exports DOCKER_HOST
    scripts/engine.sh base-images      # into that engine, from the default state's rootfs tarballs
    python3 benchmarks/build.py [--runs N] [--target T ...]
    BAKEGEN_ENGINE_STATE=/tmp/bakegen-bench scripts/engine.sh stop

Both ways build the same generated Dockerfiles of a copy of the root example workspace (default:
model-server's Debian bookworm runtime and devel images for Python 3.11, linux/amd64, and their base)
on the same engine, side by side in one run, each from its own cold start:

- old: one sequential `docker build` per target in parent-first order; a parent is tagged locally
  and its children get it with `--build-context base=docker-image://<parent tag>`;
- bake: one `docker buildx bake` of the targets; parents come in through `target:` contexts.

Scenarios, per way and repetition: cold (build cache pruned and the images removed first), warm
(nothing changed), and edit (one line appended to the distro template
templates/debian/base.Dockerfile.j2, re-rendered; a new line each repetition). Steps executed and
cached are counted per target from `--progress=rawjson` (Dockerfile steps only: FROM and the internal
vertices are left out). Prints markdown tables of medians and ratios.

It prunes the engine's build cache (`docker builder prune -af`) before every cold run: give it an
engine of its own (BAKEGEN_ENGINE_STATE above) when others use the default one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENGINE_SH = ROOT / "scripts" / "engine.sh"
DEFAULT_TARGETS = ["model-server-runtime-debian12-py311", "model-server-devel-debian12-py311"]
EDITED_TEMPLATE = "templates/debian/base.Dockerfile.j2"
PLATFORM = "linux/amd64"
LOCAL_REPO = "bakegen-bench"
ENV = {"VERSION": "bench", "HUB_PASSWORD": "x"}
# "[target stage 2/3] RUN ..." (bake) or "[2/3] RUN ..." (docker build): a Dockerfile step.
STEP = re.compile(r"^\[(?:(?P<target>[a-z0-9][a-z0-9_.-]*) )?(?:[^\]\s]+ )?\d+/\d+\] (?P<op>\S+)")
TIMEOUT = 1800


@dataclass
class Steps:
    executed: int = 0
    cached: int = 0

    def __str__(self) -> str:
        return f"{self.executed} run / {self.cached} cached"


@dataclass
class Result:
    seconds: float
    steps: dict[str, Steps] = field(default_factory=dict)


def sh(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run a command; on failure, exit with its output. Returns stderr (where progress goes)."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stderr


def engine_env() -> dict[str, str]:
    env = {**os.environ, **ENV}
    env.pop("GHCR_TOKEN", None)
    if not env.get("DOCKER_HOST"):
        state = Path(os.environ.get("BAKEGEN_ENGINE_STATE", "/tmp/bakegen-engine"))
        if (state / "docker.sock").is_socket():
            env["DOCKER_HOST"] = f"unix://{state / 'docker.sock'}"
    probe = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        sys.exit(
            f'no Docker engine: start one with: eval "$(scripts/engine.sh start)"\n{probe.stderr}'
        )
    return env


def step_counts(progress: str, target: str | None, order: list[str]) -> dict[str, Steps]:
    """Executed and cached Dockerfile steps per target, from rawjson progress lines.

    With `target` None (bake), a step belongs to the target bake names it under; bake names a
    parent's steps under each child that uses them too, so the first in parent-first `order`
    wins. Otherwise every step is `target`'s.
    """
    vertices: dict[str, dict[str, Any]] = {}
    owners: dict[str, set[str]] = {}
    for line in progress.splitlines():
        if line.startswith("{"):
            for vertex in json.loads(line).get("vertexes") or []:
                match = STEP.match(vertex.get("name", ""))
                if not match or match["op"] == "FROM":
                    continue
                vertices.setdefault(vertex["digest"], {}).update(vertex)
                owners.setdefault(vertex["digest"], set()).add(target or match["target"] or "?")
    out: dict[str, Steps] = {}
    rank = {name: index for index, name in enumerate(order)}
    for digest, vertex in vertices.items():
        name = min(owners[digest], key=lambda n: rank.get(n, len(rank)))
        steps = out.setdefault(name, Steps())
        if vertex.get("cached"):
            steps.cached += 1
        else:
            steps.executed += 1
    return out


def parent_first(targets: dict[str, Any]) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for ref in (targets[name].get("contexts") or {}).values():
            if ref.startswith("target:"):
                visit(ref.removeprefix("target:"))
        order.append(name)

    for name in sorted(targets):
        visit(name)
    return order


class Bench:
    def __init__(self, ws: Path, env: dict[str, str], targets: list[str]) -> None:
        self.ws, self.env, self.targets = ws, env, targets
        self.printed: dict[str, Any] = {}
        self.host_file = ws / "host-network.json"
        self.refresh()

    def refresh(self) -> None:
        """Render, then read the resolved targets and write the host-network bake file."""
        sh([sys.executable, "-m", "bakegen", "render", "-C", str(self.ws)], self.env)
        proc = subprocess.run(
            ["docker", "buildx", "bake", "--print", *self.platform_set(), *self.targets],
            cwd=self.ws,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        self.printed = json.loads(proc.stdout)["target"]
        subprocess.run(
            [str(ENGINE_SH), "host-network", str(self.host_file)],
            input=proc.stdout,
            capture_output=True,
            text=True,
            check=True,
        )

    def platform_set(self) -> list[str]:
        return ["--set", f"*.platform={PLATFORM}"]

    def tag(self, name: str) -> str:
        tags = self.printed[name].get("tags") or []
        return str(tags[0]) if tags else f"{LOCAL_REPO}/{name}:latest"

    def images(self) -> list[str]:
        return sorted(
            {t for spec in self.printed.values() for t in spec.get("tags") or []}
            | {f"{LOCAL_REPO}/{name}:latest" for name in self.printed}
        )

    def allow_fs(self) -> list[str]:
        dirs = set()
        for spec in self.printed.values():
            for secret in spec.get("secret") or []:
                if isinstance(secret, dict) and secret.get("src"):
                    dirs.add(str(Path(secret["src"]).parent))
        return [f"--allow=fs.read={d}" for d in sorted(dirs)]

    def reset(self) -> None:
        """Cold: no build cache, none of the images."""
        subprocess.run(
            ["docker", "image", "rm", "--force", *self.images()],
            env=self.env,
            capture_output=True,
            check=False,
        )
        sh(["docker", "builder", "prune", "--all", "--force"], self.env)

    def old(self) -> Result:
        result = Result(0.0)
        start = time.perf_counter()
        for name in parent_first(self.printed):
            spec = self.printed[name]
            cmd = ["docker", "build", "--progress=rawjson", "--network=host"]
            cmd += ["--platform", ",".join(spec.get("platforms") or [PLATFORM])]
            cmd += ["-f", str(self.ws / spec["dockerfile"]), "-t", self.tag(name)]
            for key, value in sorted((spec.get("args") or {}).items()):
                cmd += ["--build-arg", f"{key}={value}"]
            for key, value in sorted((spec.get("labels") or {}).items()):
                cmd += ["--label", f"{key}={value}"]
            for ctx, ref in sorted((spec.get("contexts") or {}).items()):
                parent = ref.removeprefix("target:")
                source = f"docker-image://{self.tag(parent)}" if parent != ref else ref
                cmd += ["--build-context", f"{ctx}={source}"]
            for secret in spec.get("secret") or []:
                text = secret
                if isinstance(secret, dict):
                    text = ",".join(f"{k}={v}" for k, v in secret.items())
                cmd += ["--secret", str(text)]
            cmd.append(str(self.ws / spec.get("context", ".")))
            progress = sh(cmd, self.env, cwd=self.ws)
            result.steps.update(step_counts(progress, name, [name]))
        result.seconds = time.perf_counter() - start
        return result

    def bake(self) -> Result:
        cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(self.host_file)]
        cmd += ["--allow=network.host", *self.allow_fs(), "--progress=rawjson", "--load"]
        cmd += [*self.platform_set(), *self.targets]
        start = time.perf_counter()
        progress = sh(cmd, self.env, cwd=self.ws)
        seconds = time.perf_counter() - start
        return Result(seconds, step_counts(progress, None, parent_first(self.printed)))


def edit_template(ws: Path, stamp: str | None, original: str) -> None:
    path = ws / EDITED_TEMPLATE
    text = original
    if stamp is not None:
        text += f'RUN echo "{stamp}" > /etc/bakegen-bench-edit\n'
    path.write_text(text)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fmt_steps(results: list[Result], names: list[str]) -> str:
    """Per-target step counts; where repetitions differ, each distinct count."""
    parts = []
    for name in names:
        seen = list(dict.fromkeys(str(r.steps.get(name, Steps())) for r in results))
        parts.append(f"{short(name)}: {' or '.join(seen)}")
    return "; ".join(parts)


def short(name: str) -> str:
    return name.replace("model-server-", "").replace("-debian12-py311", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument(
        "--target", action="append", help=f"bake target (default: {' '.join(DEFAULT_TARGETS)})"
    )
    args = parser.parse_args()
    targets = args.target or DEFAULT_TARGETS
    env = engine_env()
    with tempfile.TemporaryDirectory(prefix="bakegen-bench-") as tmp:
        ws = Path(tmp) / "example"
        ws.mkdir()
        for name in ("manifest", "templates"):
            shutil.copytree(ROOT / name, ws / name)
        original = (ws / EDITED_TEMPLATE).read_text()
        bench = Bench(ws, env, targets)
        names = parent_first(bench.printed)
        ways: dict[str, Callable[[], Result]] = {"old": bench.old, "bake": bench.bake}
        results: dict[tuple[str, str], list[Result]] = {}
        for rep in range(args.runs):
            order = ["old", "bake"] if rep % 2 == 0 else ["bake", "old"]
            for way in order:
                bench.reset()
                for scenario in ("cold", "warm", "edit"):
                    if scenario == "edit":
                        edit_template(ws, f"edit {rep} {way} {time.time_ns()}", original)
                        bench.refresh()
                    result = ways[way]()
                    results.setdefault((way, scenario), []).append(result)
                    print(
                        f"run {rep + 1}/{args.runs} {way:4} {scenario:4} {result.seconds:7.1f} s",
                        file=sys.stderr,
                    )
                edit_template(ws, None, original)
                bench.refresh()
        bench.reset()
    report(results, names, targets, env, args.runs)


def report(
    results: dict[tuple[str, str], list[Result]],
    names: list[str],
    targets: list[str],
    env: dict[str, str],
    runs: int,
) -> None:
    server = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    buildx = subprocess.run(
        ["docker", "buildx", "version"], env=env, capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"Targets: {', '.join(targets)} ({PLATFORM}), built with their parents: {', '.join(names)}."
    )
    print(
        f"Engine {server}, {buildx}, {os.cpu_count()} CPUs, {platform.machine()}; "
        f"medians of {runs} runs; edit = one line appended to {EDITED_TEMPLATE}."
    )
    print()
    print("| scenario | old: docker build x" + str(len(names)) + " (s) | bake (s) | old / bake |")
    print("| --- | ---: | ---: | ---: |")
    for scenario in ("cold", "warm", "edit"):
        old = median(r.seconds for r in results[("old", scenario)])
        new = median(r.seconds for r in results[("bake", scenario)])
        print(f"| {scenario} | {old:.1f} | {new:.1f} | {old / new:.2f}x |")
    print()
    print("| scenario | old: steps per target | bake: steps per target |")
    print("| --- | --- | --- |")
    for scenario in ("cold", "warm", "edit"):
        print(
            f"| {scenario} | {fmt_steps(results[('old', scenario)], names)} "
            f"| {fmt_steps(results[('bake', scenario)], names)} |"
        )
    print()
    print("Each run's seconds (old | bake):")
    for scenario in ("cold", "warm", "edit"):
        old_s = " ".join(f"{r.seconds:.1f}" for r in results[("old", scenario)])
        new_s = " ".join(f"{r.seconds:.1f}" for r in results[("bake", scenario)])
        print(f"- {scenario}: {old_s} | {new_s}")


if __name__ == "__main__":
    main()
