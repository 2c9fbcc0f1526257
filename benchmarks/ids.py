"""Build-id timings of the example workspaces (not a test): prints a markdown table.

    PYTHONPATH=. python3 benchmarks/ids.py [--runs N]

For each workspace, in process, medians over N runs: the compile (load -> validate -> plan ->
emit, what every `bakegen ci ids` does first); the ids alone, from that compile, with a cold
file cache (every context file read and hashed again); and the whole of `build_ids` (compile
and ids). The rates are build ids (image x platform) per second of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bakegen.buildid import Ids, build_ids, selected
from bakegen.pipeline import compile_workspace

ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = {
    "notebook family (examples/notebook-family)": ROOT / "examples" / "notebook-family",
    "example (repository root)": ROOT,
}


def median(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, workspace: Path, runs: int, env: dict[str, str]) -> str:
    count = len(build_ids(workspace, env=env))  # warms the template cache
    compile_s = median(runs, lambda: compile_workspace(workspace))
    compiled = compile_workspace(workspace)

    def alone() -> None:
        ids = Ids(compiled, workspace, env, {})
        for image, platform in selected(ids, (), None):
            ids.row(image, platform)

    alone_s = median(runs, alone)
    whole_s = median(runs, lambda: build_ids(workspace, env=env))
    return (
        f"| {name} | {count} | {compile_s * 1000:.0f} ms | {alone_s * 1000:.1f} ms "
        f"| {count / alone_s:,.0f} | {whole_s * 1000:.0f} ms | {count / whole_s:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print("| workspace | ids | compile | ids alone | ids/s alone | compile + ids | ids/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, workspace in WORKSPACES.items():
        print(row(name, workspace, runs, dict(os.environ)))


if __name__ == "__main__":
    main()
