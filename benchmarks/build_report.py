"""The report of build.py: medians per scenario, the longest chain of builds, the steps each
target ran, and the measures against the targets."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess

from build_bench import EDITS, SCENARIOS, Bench
from build_steps import Result, fmt_steps, median, short


def report(
    results: dict[tuple[str, str], list[Result]],
    bench: Bench,
    args: argparse.Namespace,
    env: dict[str, str],
    elapsed: float,
) -> None:
    header(bench, args, env, elapsed)
    med = {
        (way, scenario): median(r.seconds for r in results[(way, scenario)])
        for scenario in SCENARIOS
        for way in ("old", "bake")
    }
    timings(results, bench, med)
    steps(results, bench)
    against_the_targets(results, bench, med)


def header(bench: Bench, args: argparse.Namespace, env: dict[str, str], elapsed: float) -> None:
    """What ran, on which engine."""
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
    plats = sorted({p for n in names for p in bench.platforms(n)})
    print(f"Workload {args.workload}: {bench.workload.description}.")
    print(f"Targets ({', '.join(plats)}), parents first: {', '.join(names)}.")
    print(
        f"Engine {server}, {buildx}, {os.cpu_count()} CPUs, {platform.machine()}; medians of "
        f"{args.runs} interleaved runs ({elapsed / 60:.0f} min in all); edit X = one line "
        f"appended to templates/debian/X.Dockerfile.j2."
    )
    print()


def timings(
    results: dict[tuple[str, str], list[Result]],
    bench: Bench,
    med: dict[tuple[str, str], float],
) -> None:
    """The medians side by side, and the bound the longest chain of old builds sets."""
    builds = sum(len(bench.platforms(n)) for n in bench.order)
    print(f"| scenario | old: {builds} x docker build (s) | bake (s) | old / bake |")
    print("| --- | ---: | ---: | ---: |")
    for scenario in SCENARIOS:
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


def steps(results: dict[tuple[str, str], list[Result]], bench: Bench) -> None:
    """The steps each target ran or found cached, and each run's seconds."""
    names = bench.order
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


def against_the_targets(
    results: dict[tuple[str, str], list[Result]],
    bench: Bench,
    med: dict[tuple[str, str], float],
) -> None:
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
