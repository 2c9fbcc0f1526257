"""Render speed at three sizes, against the physical floor (not a test): prints a table.

    python3 benchmarks/render_bench.py [--runs N] [--sizes 100,1000,5000]

Manifests in the manager.py format with about 100, 1,000 and 5,000 images (packages x
base/runtime/devel/cudnn x Debian, RHEL and Alpine releases x three Python versions x two CUDA
versions), rendered with the repository's templates. Measured in one run, side by side, as
medians of N runs:

- `bakegen render` as a whole process into an empty output folder (cold), and again with
  nothing changed; `bakegen render --check`; a render after an edit of the manifest's data
  (edited: validated and compiled again, some Dockerfiles rewritten); the process's peak memory;
- `docker buildx bake --print` of the result (when buildx is installed);
- the floors: plain Python writing exactly the same bytes to the same paths and flushing them
  once (`os.sync()`), and reading them back, in this process and in a fresh `python -c` (an
  unchanged render is a whole process too: that floor includes the interpreter's start-up).

bakegen keeps two things in its cache folder (a temporary one here): the state of each
workspace's last render and the templates Jinja compiled. A cold render is into an empty output
folder with that cache as earlier renders left it (the daily case: a fresh checkout,
`generated/` deleted); "no cache" also empties the cache folder first (the first render after
installing bakegen): cold beside no cache is what the compiled templates are worth. "unchanged,
no state" is an unchanged render whose state was removed first (it compiles, compares and finds
nothing to write): beside unchanged, it is what the state is worth.

Each ratio is a render over the floor measured right after it, pair by pair (these machines'
absolute times drift by 2x from hour to hour); the per-image columns show whether the cost
grows linearly with the manifest.

A second table times start-up, beside the interpreter doing nothing (`python -c pass`): `bakegen
--help`, `bakegen --version`, and `bakegen render` of the manager.py matrix
(tests/workspaces/seedlike: 22 Dockerfiles, 108 targets), cold, edited and unchanged; the first
cold render of a new bakegen has no cache.

Every process runs this checkout's bakegen (PYTHONPATH), whatever is installed, from bytecode
as an installed package does (pip compiles it at install): the benchmark keeps its bytecode in
its own temporary folder (PYTHONPYCACHEPREFIX) and ignores PYTHONDONTWRITEBYTECODE, which would
have every process compile bakegen from source (about 0.08 s a process). A first, untimed round
fills that folder and bakegen's cache.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Every bakegen process of the benchmark runs this checkout's code (bytecode: see `main`).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT)
# Images per package of the generated manifest (see `manifest`).
IMAGES_PER_PACKAGE = 36


def manifest(packages: int) -> str:
    """A manager.py-format manifest with `packages` packages, 36 images each."""
    spec = {
        "templates_dir": "",
        "base_image": "",
        "add_to_tags": "",
        "envars": ["LANG=C.UTF-8"],
        "platforms": ["linux/amd64", "linux/arm64"],
        "cuda_prefix_url": "",
        "cuda_requires": "cuda>={cuda_short}",
        "cuda": ["12.4.1", "12.6.3"],
    }

    def release(family: str, image: str, suffix: str, cuda: str) -> dict[str, object]:
        return {
            **spec,
            "templates_dir": f"templates/{family}",
            "base_image": image,
            "add_to_tags": suffix,
            "cuda_prefix_url": cuda,
        }

    data = {
        "version": "1.0.0",
        "max_targets": 100_000,
        "python_versions": ["3.10", "3.11", "3.12"],
        "repository": {
            "docker.io": {
                "only_if": "HUB_PASSWORD",
                "user": "HUB_USERNAME",
                "pwd": "HUB_PASSWORD",
                "registry": {f"p{i:03d}": f"docker.io/example/p{i:03d}" for i in range(packages)},
            }
        },
        "cuda_dependencies": {
            "12.4.1": {"cudart": "12.4.127-1", "libcublas": "12.4.5.8-1", "cudnn9": "9.1.0.70-1"},
            "12.6.3": {"cudart": "12.6.77-1", "libcublas": "12.6.4.1-1", "cudnn9": "9.5.1.17-1"},
        },
        "packages": {
            f"p{i:03d}": {
                "runtime": ["debian", "rockylinux", "alpine"],
                "devel": ["debian", "rockylinux"],
                "cudnn": ["debian", "rockylinux"],
            }
            for i in range(packages)
        },
        "releases": {
            "debian": {"12": release("debian", "debian:bookworm-slim", "bookworm", "debian12")},
            "rockylinux": {"9": release("rhel", "rockylinux/rockylinux:9", "rocky9", "rhel9")},
            "alpine": {"3.21": release("alpine", "alpine:3.21", "alpine3.21", "")},
        },
    }
    return yaml.safe_dump(data, sort_keys=False)


def workspace(root: Path, packages: int) -> Path:
    (root / "manifest").mkdir(parents=True)
    (root / "manifest" / "manifest.yml").write_text(manifest(packages), encoding="utf-8")
    shutil.copytree(ROOT / "templates", root / "templates")
    return root


def outputs(ws: Path) -> dict[Path, bytes]:
    files = sorted((ws / "generated").rglob("*"))
    found = {p: p.read_bytes() for p in files if p.is_file()}
    found[ws / "docker-bake.hcl"] = (ws / "docker-bake.hcl").read_bytes()
    return found


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def no_cache() -> None:
    """An empty cache folder, as for a bakegen just installed."""
    shutil.rmtree(ENV["BAKEGEN_CACHE"], ignore_errors=True)


def no_state() -> None:
    """The cache folder without the states of earlier renders (compiled templates kept)."""
    shutil.rmtree(Path(ENV["BAKEGEN_CACHE"], "state"), ignore_errors=True)


def bakegen(ws: Path, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bakegen", *args], cwd=ws, env=ENV, capture_output=True, check=False
    )
    if proc.returncode not in ok:
        raise SystemExit(f"bakegen {' '.join(args)} failed: {proc.stderr.decode()[-2000:]}")


def peak_rss_mib(ws: Path) -> float:
    """Peak resident memory of one `bakegen render` process with no output and no cache
    (measured by a fresh parent, so no other child of this script counts)."""
    empty_output(ws)
    no_cache()
    probe = (
        "import resource, subprocess, sys;"
        "subprocess.run([sys.executable, '-m', 'bakegen', 'render'], check=True, capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ws, env=ENV, capture_output=True, text=True, check=True
    )
    return int(out.stdout) / 1024


def write_floor(files: dict[Path, bytes], ws: Path) -> None:
    empty_output(ws)

    def write() -> None:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        os.sync()

    write()


def read_floor(files: dict[Path, bytes]) -> None:
    for path in files:
        path.read_bytes()


def read_floor_process(files: dict[Path, bytes], ws: Path) -> None:
    """The same reads by a fresh Python process: the least any Python command can take."""
    listing = ws.parent / "floor-files.txt"
    listing.write_text("\n".join(str(p) for p in files), encoding="utf-8")
    code = f"for p in open({str(listing)!r}).read().split(chr(10)): open(p, 'rb').read()"
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)


EDITS = itertools.count(2)


def edit(ws: Path) -> None:
    """A new CUDA runtime package version in the manifest: new data (validated again, no
    cached result applies) that changes the Dockerfiles of one CUDA version."""
    path = ws / "manifest" / "manifest.yml"
    text, found = re.subn(
        r"(cudart: \d+\.\d+\.\d+)-\d+",
        lambda m: f"{m[1]}-{next(EDITS)}",
        path.read_text(encoding="utf-8"),
        count=1,
    )
    if found != 1:
        raise SystemExit(f"{path}: no cudart version to edit")
    path.write_text(text, encoding="utf-8")


def empty_output(ws: Path) -> None:
    shutil.rmtree(ws / "generated", ignore_errors=True)
    (ws / "docker-bake.hcl").unlink(missing_ok=True)


def measure(packages: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bakegen-bench-") as tmp:
        ws = workspace(Path(tmp), packages)
        bakegen(ws, "render")
        files = outputs(ws)
        took: dict[str, list[float]] = collections.defaultdict(list)
        for _ in range(runs):
            empty_output(ws)
            cold_s = timed(lambda: bakegen(ws, "render"))
            took["cold"].append(cold_s)
            took["cold ratio"].append(cold_s / timed(lambda: write_floor(files, ws)))
            empty_output(ws)
            no_cache()
            bare_s = timed(lambda: bakegen(ws, "render"))
            took["no cache"].append(bare_s)
            took["no cache ratio"].append(bare_s / timed(lambda: write_floor(files, ws)))
            bakegen(ws, "render")  # the state of a render that wrote these files
            warm_s = timed(lambda: bakegen(ws, "render"))
            took["unchanged"].append(warm_s)
            took["unchanged ratio"].append(warm_s / timed(lambda: read_floor(files)))
            took["process ratio"].append(warm_s / timed(lambda: read_floor_process(files, ws)))
            no_state()
            took["unchanged, no state"].append(timed(lambda: bakegen(ws, "render")))
            took["check"].append(timed(lambda: bakegen(ws, "render", "--check")))
            edit(ws)
            took["edited"].append(timed(lambda: bakegen(ws, "render")))
            if shutil.which("docker"):
                took["bake"].append(timed(lambda: bake_print(ws)))
        return table_row(packages * IMAGES_PER_PACKAGE, len(files), took, peak_rss_mib(ws))


def bake_print(ws: Path) -> None:
    subprocess.run(
        ["docker", "buildx", "bake", "--print"], cwd=ws, capture_output=True, check=False
    )


def table_row(
    images: int, files: int, took: Mapping[str, list[float]], peak: float
) -> dict[str, float]:
    """One size's row: the medians of its timings."""
    median = {name: statistics.median(t) for name, t in took.items()}
    return {
        "images": images,
        "files": files,
        "cold": median["cold"],
        "cold ms/image": median["cold"] / images * 1000,
        "cold / write floor": median["cold ratio"],
        "no cache": median["no cache"],
        "no cache / write floor": median["no cache ratio"],
        "unchanged": median["unchanged"],
        "unchanged ms/image": median["unchanged"] / images * 1000,
        "unchanged / read floor": median["unchanged ratio"],
        "unchanged / read floor, process": median["process ratio"],
        "unchanged, no state": median["unchanged, no state"],
        "check": median["check"],
        "edited": median["edited"],
        "peak MiB": peak,
        "bake --print": median.get("bake", float("nan")),
    }


def startup(runs: int) -> list[dict[str, object]]:
    """Whole-process times of the short commands, round by round beside `python -c pass`."""
    with tempfile.TemporaryDirectory(prefix="bakegen-bench-") as tmp:
        ws = Path(tmp)
        shutil.copytree(ROOT / "tests" / "workspaces" / "seedlike" / "manifest", ws / "manifest")
        shutil.copytree(ROOT / "templates", ws / "templates")

        def nothing() -> None:
            pass

        def bare() -> None:
            empty_output(ws)
            no_cache()

        # name: (untimed set-up, timed command)
        commands: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "python -c pass": (
                nothing,
                lambda: subprocess.run([sys.executable, "-c", "pass"], env=ENV, check=True),
            ),
            "bakegen --help, no cache": (no_cache, lambda: bakegen(ws, "--help")),
            "bakegen --help": (nothing, lambda: bakegen(ws, "--help")),
            "bakegen --version": (nothing, lambda: bakegen(ws, "--version")),
            "render seedlike, no cache": (bare, lambda: bakegen(ws, "render")),
            "render seedlike, cold": (lambda: empty_output(ws), lambda: bakegen(ws, "render")),
            "render seedlike, edited": (lambda: edit(ws), lambda: bakegen(ws, "render")),
            "render seedlike, unchanged": (nothing, lambda: bakegen(ws, "render")),
            "render seedlike, unchanged, no state": (no_state, lambda: bakegen(ws, "render")),
            "render --check seedlike, unchanged": (
                nothing,
                lambda: bakegen(ws, "render", "--check"),
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(runs + 1):  # round 0 fills the bytecode and bakegen's caches
            for name, (setup, command) in commands.items():
                setup()
                took = timed(command)
                if round_:
                    times[name].append(took)
        return [{"command": name, "median s": statistics.median(t)} for name, t in times.items()]


def print_table(rows: Sequence[Mapping[str, object]]) -> None:
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for row in rows:
        cells = [
            f"{v:.0f}" if k in ("images", "files") else f"{v:.2f}" if isinstance(v, float) else v
            for k, v in row.items()
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="100,1000,5000", help="images, about")
    parser.add_argument("--startup-runs", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bakegen-bench-cache-") as cache:
        ENV["BAKEGEN_CACHE"] = str(Path(cache) / "bakegen")  # bakegen's, not the user's
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(cache) / "bytecode")
        run(args)


def run(args: argparse.Namespace) -> None:
    print_table(startup(args.startup_runs))
    print()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else []
    print_table([measure(max(1, round(size / IMAGES_PER_PACKAGE)), args.runs) for size in sizes])
    load = os.getloadavg()
    print(f"\nmedians of {args.runs} runs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
