"""Render timings of the example workspaces (not a test): prints a markdown table.

    python3 benchmarks/render.py [--runs N]

For each workspace, side by side in one run: the `bakegen render` process into an empty output
folder, the same with nothing to change, and the compile (load -> validate -> plan -> emit) in
process. Medians over N runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bakegen.pipeline import compile_workspace

ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = {
    "example (repository root)": ROOT,
    "manager.py matrix (tests/workspaces/seedlike)": ROOT / "tests" / "workspaces" / "seedlike",
}


def copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src / "manifest", dest / "manifest")
    templates = src / "templates" if (src / "templates").exists() else ROOT / "templates"
    shutil.copytree(templates, dest / "templates")
    return dest


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    render = [sys.executable, "-m", "bakegen", "render"]
    print(
        "| workspace | targets | files | render, empty output (s) | render, no change (s) | compile in process (s) |"
    )
    print("|---|---|---|---|---|---|")
    for name, src in WORKSPACES.items():
        cold: list[float] = []
        warm: list[float] = []
        inproc: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            ws = copy(src, Path(tmp) / "ws")
            for _ in range(runs):
                shutil.rmtree(ws / "generated", ignore_errors=True)
                cold.append(timed(render, ws))
                warm.append(timed(render, ws))
                start = time.perf_counter()
                compiled = compile_workspace(ws)
                inproc.append(time.perf_counter() - start)
            targets = len(compiled.plan.images) + len(compiled.plan.verifies)
            print(
                f"| {name} | {len(compiled.plan.images)} images + "
                f"{len(compiled.plan.verifies)} verify = {targets} | {len(compiled.outputs)} | "
                f"{statistics.median(cold):.3f} | {statistics.median(warm):.3f} | "
                f"{statistics.median(inproc):.3f} |"
            )


if __name__ == "__main__":
    main()
