"""Build timings (not a test): a `docker build` per Dockerfile against one `docker buildx bake`.

    eval "$(BAKEGEN_ENGINE_STATE=/tmp/bakegen-bench scripts/engine.sh start)"   # exports DOCKER_HOST
    BAKEGEN_ENGINE_STATE=/tmp/bakegen-bench scripts/engine.sh base-images
    python3 benchmarks/build.py [--workload wide|small] [--runs N] [--target T ...]
    BAKEGEN_ENGINE_STATE=/tmp/bakegen-bench scripts/engine.sh stop

Both ways build the same generated Dockerfiles of a copy of the root example workspace (its
manifest/ and templates/) on the same engine, side by side in one run, each from its own cold start:

- old (how manager.py built): one `docker build --platform P` per Dockerfile per platform, one at a
  time, parents first; a parent is tagged locally (one tag per platform: manager.py had no
  multi-platform builds) and its children get it with `--build-context base=docker-image://<tag>`;
- bake: one `docker buildx bake --load` of all the targets and platforms; parents come in through
  `target:` contexts, and BuildKit runs independent steps concurrently and identical ones once.

Workloads (`--workload`):

- wide (default): every Debian bookworm image of both packages for Python 3.11 on linux/amd64 and
  linux/arm64 (arm64 under QEMU): model-server base/runtime/devel and yatai-service base/runtime,
  5 Dockerfiles x 2 platforms = 10 old builds. The manifest copy is narrowed programmatically to the
  Debian 12 release, Python 3.11 and Debian images only (CUDA, Alpine, Ubuntu and Rocky Linux need
  base images this engine cannot pull). The two base Dockerfiles are identical, so are the two
  runtime ones but for a LABEL: bake runs those steps once for both packages; the old way finds
  yatai-service's base steps in the build cache but runs its runtime steps again (they start FROM
  yatai-service's own base image, same layers but another image digest, so another cache key).
- small: the earlier scenario, model-server's bookworm runtime and devel images for Python 3.11 and
  their base, linux/amd64 only (`--set *.platform=linux/amd64`): 3 old builds.

Output, chosen to be fair to both sides: bake uses `--load`, like every old build (the docker driver
writes into the engine's image store). The engine runs the containerd image store (engine.sh sets
it), where the docker driver loads a multi-platform result as one image with both platforms, so
bake ends with the same images in the store as the old way. `type=cacheonly` for bake would have
spared it the export the old way cannot skip (its children are built from the parent's image), and
one bake per platform would have given up the cross-platform concurrency under test. Bake loads only
the requested targets (the leaves); the bases exist only as build results, as bake intends.

Scenarios, per way and repetition: cold (build cache pruned and the images removed first), warm
(nothing changed), edit devel (one line appended to the leaf template
templates/debian/devel.Dockerfile.j2, re-rendered) and edit base (the leaf edit undone, one line
appended to the distro template templates/debian/base.Dockerfile.j2, which every image here is built
FROM); each edit is a new line each time, so it is never in the cache. Steps executed and cached are
counted per target from `--progress=rawjson` (Dockerfile steps only: FROM and the internal vertices
are left out), summed over platforms. The old way's steps are its build's; bake names a step under
any one of the targets that use it, so a step is given to the target in the named one's parent chain
whose Dockerfile has that instruction (variables expanded), and a target whose steps are identical
to an earlier one's (same instructions, parent, args and platforms, so the same BuildKit vertices)
is listed under that earlier one.

Noise: another job may share the CPU (a CI run, say). The two ways are interleaved, each
repetition doing old then bake or bake then old in turn (ABA...), so a load that comes and goes hits
both alike; the 1-minute load average before each run is printed with its time. Medians of the
repetitions, ratios old / bake, as markdown tables, then whether the project's targets are met.

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

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENGINE_SH = ROOT / "scripts" / "engine.sh"
LEAF_TEMPLATE = "templates/debian/devel.Dockerfile.j2"
BASE_TEMPLATE = "templates/debian/base.Dockerfile.j2"
EDITS = {"edit devel": LEAF_TEMPLATE, "edit base": BASE_TEMPLATE}
SCENARIOS = ["cold", "warm", *EDITS]
LOCAL_REPO = "bakegen-bench"
ENV = {"VERSION": "bench", "HUB_PASSWORD": "x"}
# "[target linux/arm64 2/3] RUN ..." (bake) or "[linux/arm64 2/3] RUN ..." (docker build).
STEP = re.compile(
    r"^\[(?:(?P<target>[a-z0-9][a-z0-9_.-]*) )?(?:[^\]\s]+ )?\d+/\d+\] (?P<text>(?P<op>\S+).*)$",
    re.DOTALL,
)
TEMPLATE_LINE = re.compile(r"^# generated by bakegen; do not edit \(template: (?P<path>[^)]+)\)$")
VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+?][^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*")
TIMEOUT = 1800


@dataclass(frozen=True)
class Workload:
    description: str
    targets: list[str]  # bake targets or groups
    platform: str | None  # forced on every target with --set, or None: the bake file's platforms
    narrow: Callable[[Path], None] | None = None  # rewrites the copied manifest


def narrow_wide(ws: Path) -> None:
    """Keep Debian 12, Python 3.11 and the Debian images of each package, on amd64 and arm64."""
    path = ws / "manifest" / "manifest.yml"
    manifest = yaml.safe_load(path.read_text())
    release = manifest["releases"]["debian"]["12"]
    release["python_versions"] = ["3.11"]
    release["platforms"] = ["linux/amd64", "linux/arm64"]
    manifest["releases"] = {"debian": {"12": release}}
    manifest["python_versions"] = ["3.11"]

    def flat(items: Any) -> list[Any]:
        if isinstance(items, list):
            return [leaf for item in items for leaf in flat(item)]
        return [items]

    for spec in manifest["packages"].values():
        for key in list(spec):
            if key == "python_versions":
                spec[key] = ["3.11"]
            elif "debian" in flat(spec[key]):
                spec[key] = ["debian"]
            else:
                del spec[key]
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))


WORKLOADS = {
    "wide": Workload(
        "every bookworm image of both packages for Python 3.11 (model-server base/runtime/devel, "
        "yatai-service base/runtime), linux/amd64 + linux/arm64 (QEMU)",
        ["default"],
        None,
        narrow_wide,
    ),
    "small": Workload(
        "model-server's bookworm runtime and devel images for Python 3.11 and their base, "
        "linux/amd64",
        ["model-server-runtime-debian12-py311", "model-server-devel-debian12-py311"],
        "linux/amd64",
    ),
}


@dataclass
class Steps:
    executed: int = 0
    cached: int = 0

    def __str__(self) -> str:
        return f"{self.executed} run / {self.cached} cached"


@dataclass
class Result:
    seconds: float
    load: float  # 1-minute load average when the run started
    steps: dict[str, Steps] = field(default_factory=dict)
    builds: dict[tuple[str, str], float] = field(default_factory=dict)  # old: (target, platform)


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


def normalize(text: str) -> str:
    return " ".join(text.split())


def pattern(instruction: str) -> re.Pattern[str]:
    """Matches the instruction as BuildKit names its step: with $VAR and ${VAR} expanded."""
    parts = VARIABLE.split(instruction)
    return re.compile(".*?".join(re.escape(part) for part in parts))


def instructions(dockerfile: str) -> list[str]:
    """A Dockerfile's instructions, continuation lines joined, whitespace collapsed; no comments."""
    out: list[str] = []
    current = ""
    for line in dockerfile.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1]
            continue
        out.append(normalize(current + line))
        current = ""
    if current:
        out.append(normalize(current))
    return out


def step_counts(progress: str, owner: Callable[[str | None, str], str]) -> dict[str, Steps]:
    """Executed and cached Dockerfile steps per target, from rawjson progress lines.

    `owner(named target, instruction)` says which target a step belongs to.
    """
    vertices: dict[str, dict[str, Any]] = {}
    named: dict[str, tuple[str | None, str]] = {}
    for line in progress.splitlines():
        if line.startswith("{"):
            for vertex in json.loads(line).get("vertexes") or []:
                match = STEP.match(vertex.get("name", ""))
                if not match or match["op"] == "FROM":
                    continue
                vertices.setdefault(vertex["digest"], {}).update(vertex)
                named.setdefault(vertex["digest"], (match["target"], normalize(match["text"])))
    out: dict[str, Steps] = {}
    for digest, vertex in vertices.items():
        steps = out.setdefault(owner(*named[digest]), Steps())
        if vertex.get("cached"):
            steps.cached += 1
        else:
            steps.executed += 1
    return out


def only(name: str) -> Callable[[str | None, str], str]:
    """The owner for one target's own build: every step is that target's."""
    return lambda _named, _text: name


def parent(spec: dict[str, Any]) -> str | None:
    for ref in (spec.get("contexts") or {}).values():
        if ref.startswith("target:"):
            return str(ref.removeprefix("target:"))
    return None


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
    def __init__(self, ws: Path, env: dict[str, str], workload: Workload) -> None:
        self.ws, self.env, self.workload = ws, env, workload
        self.printed: dict[str, Any] = {}
        self.order: list[str] = []
        self.instructions: dict[str, list[str]] = {}
        self.patterns: dict[str, list[re.Pattern[str]]] = {}
        self.same_as: dict[str, str] = {}
        self.templates: dict[str, str] = {}
        self.host_file = ws / "host-network.json"
        self.refresh()

    def refresh(self) -> None:
        """Render, then read the resolved targets and write the host-network bake file."""
        sh([sys.executable, "-m", "bakegen", "render", "-C", str(self.ws)], self.env)
        proc = subprocess.run(
            ["docker", "buildx", "bake", "--print", *self.platform_set(), *self.workload.targets],
            cwd=self.ws,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        self.printed = json.loads(proc.stdout)["target"]
        self.order = parent_first(self.printed)
        subprocess.run(
            [str(ENGINE_SH), "host-network", str(self.host_file)],
            input=proc.stdout,
            capture_output=True,
            text=True,
            check=True,
        )
        keys: dict[str, Any] = {}
        self.same_as = {}
        for name in self.order:
            spec = self.printed[name]
            text = (self.ws / spec["dockerfile"]).read_text()
            self.instructions[name] = [
                i for i in instructions(text) if not i.upper().startswith("LABEL ")
            ]
            self.patterns[name] = [pattern(i) for i in self.instructions[name]]
            for line in text.splitlines():
                if match := TEMPLATE_LINE.match(line):
                    self.templates[name] = match["path"]
            up = parent(spec)
            key = (
                tuple(self.instructions[name]),
                keys.get(up) if up else None,
                tuple(sorted((spec.get("args") or {}).items())),
                tuple(self.platforms(name)),
            )
            keys[name] = key
            self.same_as[name] = next(n for n in self.order if keys.get(n) == key)

    def platform_set(self) -> list[str]:
        return ["--set", f"*.platform={self.workload.platform}"] if self.workload.platform else []

    def platforms(self, name: str) -> list[str]:
        return list(self.printed[name].get("platforms") or ["linux/amd64"])

    def multi_platform(self) -> bool:
        return any(len(self.platforms(name)) > 1 for name in self.printed)

    def chain(self, name: str) -> list[str]:
        """The target and its ancestors, root first."""
        out = [name]
        while (up := parent(self.printed[out[0]])) is not None:
            out.insert(0, up)
        return out

    def bake_owner(self, named: str | None, text: str) -> str:
        chain = self.chain(named) if named in self.printed else self.order
        owner = next(
            (n for n in chain if any(p.fullmatch(text) for p in self.patterns[n])), named or "?"
        )
        return self.same_as.get(owner, owner)

    def tag(self, name: str) -> str:
        tags = self.printed[name].get("tags") or []
        return str(tags[0]) if tags else f"{LOCAL_REPO}/{name}:latest"

    def old_tag(self, name: str, plat: str) -> str:
        """The tag the old way gives a target's image: one per platform when there are several."""
        if not self.multi_platform():
            return self.tag(name)
        return f"{LOCAL_REPO}/{name}:{plat.replace('/', '-')}"

    def images(self) -> list[str]:
        return sorted(
            {t for spec in self.printed.values() for t in spec.get("tags") or []}
            | {f"{LOCAL_REPO}/{name}:latest" for name in self.printed}
            | {self.old_tag(n, p) for n in self.printed for p in self.platforms(n)}
        )

    def allow_fs(self) -> list[str]:
        dirs = set()
        for spec in self.printed.values():
            for secret in spec.get("secret") or []:
                if isinstance(secret, dict) and secret.get("src"):
                    dirs.add(str(Path(secret["src"]).parent))
        return [f"--allow=fs.read={d}" for d in sorted(dirs)]

    def reset(self) -> None:
        """Cold: no build cache, none of the images (nor untagged results)."""
        subprocess.run(
            ["docker", "image", "rm", "--force", *self.images()],
            env=self.env,
            capture_output=True,
            check=False,
        )
        sh(["docker", "image", "prune", "--force"], self.env)
        sh(["docker", "builder", "prune", "--all", "--force"], self.env)

    def old(self) -> Result:
        result = Result(0.0, os.getloadavg()[0])
        start = time.perf_counter()
        for name in self.order:
            spec = self.printed[name]
            for plat in self.platforms(name):
                cmd = ["docker", "build", "--progress=rawjson", "--network=host"]
                cmd += ["--platform", plat]
                cmd += ["-f", str(self.ws / spec["dockerfile"]), "-t", self.old_tag(name, plat)]
                for key, value in sorted((spec.get("args") or {}).items()):
                    cmd += ["--build-arg", f"{key}={value}"]
                for key, value in sorted((spec.get("labels") or {}).items()):
                    cmd += ["--label", f"{key}={value}"]
                for ctx, ref in sorted((spec.get("contexts") or {}).items()):
                    up = ref.removeprefix("target:")
                    source = f"docker-image://{self.old_tag(up, plat)}" if up != ref else ref
                    cmd += ["--build-context", f"{ctx}={source}"]
                for secret in spec.get("secret") or []:
                    text = secret
                    if isinstance(secret, dict):
                        text = ",".join(f"{k}={v}" for k, v in secret.items())
                    cmd += ["--secret", str(text)]
                cmd.append(str(self.ws / spec.get("context", ".")))
                began = time.perf_counter()
                progress = sh(cmd, self.env, cwd=self.ws)
                result.builds[(name, plat)] = time.perf_counter() - began
                for target, steps in step_counts(progress, only(name)).items():
                    total = result.steps.setdefault(target, Steps())
                    total.executed += steps.executed
                    total.cached += steps.cached
        result.seconds = time.perf_counter() - start
        return result

    def bake(self) -> Result:
        cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(self.host_file)]
        cmd += ["--allow=network.host", *self.allow_fs(), "--progress=rawjson", "--load"]
        cmd += [*self.platform_set(), *self.workload.targets]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        progress = sh(cmd, self.env, cwd=self.ws)
        seconds = time.perf_counter() - start
        return Result(seconds, load, step_counts(progress, self.bake_owner))

    def critical(self, result: Result) -> tuple[float, str]:
        """The old way's longest parent chain of builds (seconds, description): no build order,
        however parallel, can finish before it."""
        best = (0.0, "")
        for name in self.order:
            for plat in self.platforms(name):
                chain = self.chain(name)
                seconds = sum(result.builds.get((n, plat), 0.0) for n in chain)
                best = max(best, (seconds, f"{' -> '.join(map(short, chain))} on {plat}"))
        return best

    def fed_by(self, template: str) -> set[str]:
        """Targets rendered from `template`, and everything built on them."""
        return {
            name
            for name in self.printed
            if any(self.templates.get(n) == template for n in self.chain(name))
        }


def edit_templates(ws: Path, originals: dict[str, str], edited: str | None, stamp: str) -> None:
    """Every template back to its original, then one line appended to `edited` (if any)."""
    for rel, text in originals.items():
        extra = f'RUN echo "{stamp}" > /etc/bakegen-bench-edit\n' if rel == edited else ""
        (ws / rel).write_text(text + extra)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def short(name: str) -> str:
    return re.sub(r"-debian12-py311$", "", name)


def fmt_steps(results: list[Result], names: list[str]) -> str:
    """Per-target step counts; where repetitions differ, each distinct count."""
    parts = []
    for name in names:
        seen = list(dict.fromkeys(str(r.steps.get(name, Steps())) for r in results))
        parts.append(f"{short(name)}: {' or '.join(seen)}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--workload", choices=sorted(WORKLOADS), default="wide", help="(default: wide)"
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--target", action="append", help="bake target (default: the workload's)")
    args = parser.parse_args()
    workload = WORKLOADS[args.workload]
    if args.target:
        workload = Workload(workload.description, args.target, workload.platform, workload.narrow)
    env = engine_env()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bakegen-bench-") as tmp:
        ws = Path(tmp) / "example"
        ws.mkdir()
        for name in ("manifest", "templates"):
            shutil.copytree(ROOT / name, ws / name)
        if workload.narrow:
            workload.narrow(ws)
        originals = {rel: (ws / rel).read_text() for rel in EDITS.values()}
        bench = Bench(ws, env, workload)
        ways: dict[str, Callable[[], Result]] = {"old": bench.old, "bake": bench.bake}
        results: dict[tuple[str, str], list[Result]] = {}
        for rep in range(args.runs):
            order = ["old", "bake"] if rep % 2 == 0 else ["bake", "old"]
            for way in order:
                bench.reset()
                for scenario in SCENARIOS:
                    if scenario in EDITS:
                        stamp = f"{scenario} {rep} {way} {time.time_ns()}"
                        edit_templates(ws, originals, EDITS[scenario], stamp)
                        bench.refresh()
                    result = ways[way]()
                    results.setdefault((way, scenario), []).append(result)
                    print(
                        f"run {rep + 1}/{args.runs} {way:4} {scenario:10} {result.seconds:7.1f} s"
                        f"  (load {result.load:.1f})",
                        file=sys.stderr,
                    )
                edit_templates(ws, originals, None, "")
                bench.refresh()
        bench.reset()
        report(results, bench, args, env, time.perf_counter() - started)


def report(
    results: dict[tuple[str, str], list[Result]],
    bench: Bench,
    args: argparse.Namespace,
    env: dict[str, str],
    elapsed: float,
) -> None:
    names = bench.order
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
    builds = sum(len(bench.platforms(n)) for n in names)
    plats = sorted({p for n in names for p in bench.platforms(n)})
    print(f"Workload {args.workload}: {bench.workload.description}.")
    print(f"Targets ({', '.join(plats)}), parents first: {', '.join(names)}.")
    print(
        f"Engine {server}, {buildx}, {os.cpu_count()} CPUs, {platform.machine()}; medians of "
        f"{args.runs} interleaved runs ({elapsed / 60:.0f} min in all); edit X = one line "
        f"appended to templates/debian/X.Dockerfile.j2."
    )
    print()
    print(f"| scenario | old: {builds} x docker build (s) | bake (s) | old / bake |")
    print("| --- | ---: | ---: | ---: |")
    med: dict[tuple[str, str], float] = {}
    for scenario in SCENARIOS:
        for way in ("old", "bake"):
            med[(way, scenario)] = median(r.seconds for r in results[(way, scenario)])
        old, new = med[("old", scenario)], med[("bake", scenario)]
        print(f"| {scenario} | {old:.1f} | {new:.1f} | {old / new:.2f}x |")
    print()
    paths = [bench.critical(r) for r in results[("old", "cold")]]
    crit = median(seconds for seconds, _ in paths)
    bound = median(r.seconds / c for r, (c, _) in zip(results[("old", "cold")], paths, strict=True))
    print(
        f"Old cold, longest chain of builds: {crit:.1f} s ({paths[0][1]}), of "
        f"{med[('old', 'cold')]:.1f} s in all: even with unlimited parallelism bake could be at "
        f"most {bound:.2f}x faster cold, unless it does less work (it runs identical steps once "
        f"and loads only the leaves)."
    )
    print()
    print("| scenario | old: steps per target | bake: steps per target |")
    print("| --- | --- | --- |")
    for scenario in SCENARIOS:
        print(
            f"| {scenario} | {fmt_steps(results[('old', scenario)], names)} "
            f"| {fmt_steps(results[('bake', scenario)], names)} |"
        )
    print()
    print(
        "Steps are summed over platforms. bake lists a step once, under the first target with "
        "identical steps (yatai-service's are model-server's)."
    )
    print()
    print(
        "Each run's seconds, in run order within a scenario (1-minute load average at its start):"
    )
    for scenario in SCENARIOS:
        row = []
        for way in ("old", "bake"):
            row.append(
                " ".join(f"{r.seconds:.1f} ({r.load:.1f})" for r in results[(way, scenario)])
            )
        print(f"- {scenario}: old {row[0]} | bake {row[1]}")
    print()
    cold_ratio = med[("old", "cold")] / med[("bake", "cold")]
    warm_share = med[("bake", "warm")] / med[("bake", "cold")]
    print("Against the targets:")
    print(
        f"- cold, bake >= 2x faster: {cold_ratio:.2f}x, {'met' if cold_ratio >= 2 else 'NOT met'}"
    )
    print(
        f"- warm no-op < 5% of cold (bake): {warm_share:.1%}, "
        f"{'met' if warm_share < 0.05 else 'NOT met'} "
        f"(old: {med[('old', 'warm')] / med[('old', 'cold')]:.1%})"
    )
    for scenario, template in EDITS.items():
        fed = bench.fed_by(template)
        ran = {
            bench.same_as.get(n, n)
            for r in results[("bake", scenario)]
            for n, s in r.steps.items()
            if s.executed
        }
        fed_canon = {bench.same_as.get(n, n) for n in fed}
        ok = bool(ran) and ran <= fed_canon
        print(
            f"- {scenario}: bake executed steps in {', '.join(sorted(map(short, ran))) or 'none'}; "
            f"{template} feeds {', '.join(sorted(map(short, fed)))}: "
            f"{'only those, met' if ok else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
