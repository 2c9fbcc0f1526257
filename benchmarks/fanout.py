"""The work of the graph-aware fan-out (not a test): prints a markdown table.

    PYTHONPATH=. python3 benchmarks/fanout.py

Plays examples/notebook-family's generated workflow (amd64 and arm64, arm64 emulated) on the
engine and the loopback registry, as tests/e2e/test_fanout.py does: a first push, a second with
nothing changed, a third after one template edit. Each row counts the image builds the play ran
(bake's image builds, verify targets not counted), the builds it skipped because their build id
was in staging, and the wall time; beside them, the image builds of the flat fan-out bakegen
wrote before (one job per pushed image and platform, each building the image with every
ancestor through `target:` contexts), computed from the plan: each pushed image's chain length
per platform.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from bakegen.pipeline import plan_workspace
from testing.engine import ENGINE_SH, engine_env, need_base_image, run
from testing.helpers import run_cli
from testing.notebook_play import edit_template, notebook_workspace, push_play


def flat_builds(ws: Path) -> int:
    """What the flat fan-out builds: per pushed image and platform, it and its ancestors."""
    plan = plan_workspace(ws)
    return sum(
        len(plan.closure((image.target,)))
        for image in plan.images
        if image.push
        for _ in image.platforms
    )


def main() -> None:
    env = engine_env()
    need_base_image(env, "debian:bookworm-slim", "linux/amd64", "linux/arm64")
    run([str(ENGINE_SH), "registry"], env, timeout=300)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ws = notebook_workspace(tmp, env, f"bench-{uuid.uuid4().hex[:8]}")
        plan = plan_workspace(ws)
        images = len(plan.images)
        platforms = len({p for i in plan.images for p in i.platforms})
        cells = sum(len(i.platforms) for i in plan.images)
        rows = []
        for name in ("first push", "rerun, nothing changed", "after one template edit"):
            if name.startswith("after"):
                edit_template(ws)
                names = set(run_cli("affected", "--since", "HEAD", cwd=ws).out.split())
                affected = [i.target for i in plan.images if i.target in names]  # no verify targets
            played = push_play(ws, tmp / name.replace(" ", "-"), env)
            assert not played.failed, played.failed
            builds = sum(len(b.targets) for b in played.image_builds())
            rows.append((name, builds, len(played.reused), played.seconds))
        flat = flat_builds(ws)
    print("| run | image builds | skipped (built before) | wall time (s) | flat fan-out's builds |")
    print("|---|---:|---:|---:|---:|")
    for name, builds, skipped, seconds in rows:
        print(f"| {name} | {builds} | {skipped} | {seconds:.1f} | {flat} |")
    print()
    print(f"images: {images}, platforms: {platforms}, image x platform cells: {cells}")
    edited = sum(len(i.platforms) for i in plan.images if i.target in affected)
    print(
        f"fanout: {rows[0][1]} builds for {images} images x {platforms} platforms "
        f"({cells} image x platform); "
        f"rerun: {rows[1][1]} builds; after one template edit: {rows[2][1]} builds "
        f"(affected: {len(affected)} images, {edited} image x platform)"
    )


if __name__ == "__main__":
    main()
