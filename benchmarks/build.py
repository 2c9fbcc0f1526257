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
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from build_bench import (
    EDITS,
    ROOT,
    SCENARIOS,
    WORKLOADS,
    Bench,
    Workload,
    edit_templates,
    engine_env,
)
from build_report import report
from build_steps import Result


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


if __name__ == "__main__":
    main()
