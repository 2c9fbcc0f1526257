"""`bakegen render`: write the Dockerfiles and the bake file, only what changed.

When the state of the last render (`bakegen.cache`) shows that nothing it read or wrote has
changed, nothing is compiled: the render says what it said then, and writes nothing. Otherwise
the manifest is compiled through one `Sources`, the tree compared and changed files written all
or nothing, and the state recorded for the next render: that reader's log, the key, the outputs'
digests and what the render said.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakegen import cache
from bakegen.errors import Drift, one_line
from bakegen.layout import OUTPUT_DIR
from bakegen.output import Streams
from bakegen.write import workspace_lock

if TYPE_CHECKING:
    from bakegen.pipeline import Compiled
    from bakegen.sources import Sources


def targets_line(plan: Any) -> str:
    images, checks = len(plan.images), len(plan.verifies)
    return f"{images + checks} targets ({images} images, {checks} verify)"


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    fmt: str = "hcl",
    check: bool = False,
    max_targets: int | None = None,
) -> int:
    """Render the workspace `ws` (resolved) into its output folder; with `check`, write nothing
    and raise `Drift` when anything would change."""

    def waiting() -> None:
        io.err.print(f"waiting for another bakegen render of {ws} to finish...")

    with workspace_lock(ws, on_wait=waiting), io.progress("rendering"):
        key = cache.key(ws, manifest, fmt, max_targets)
        state = cache.unchanged(ws, key)
        if state is not None:  # every input and output as the last render left them
            said = _replay(io, state, check)
        else:
            said = _compile_and_write(io, ws, manifest, fmt, check, max_targets, key)
    if said is not None:
        io.err.print(one_line(said))
    return 0


def _replay(io: Streams, state: cache.State, check: bool) -> str | None:
    """Say what the last render said; the summary to say, or None (`check`)."""
    io.warn(state.warnings)
    if check:
        _conclude(io, state.lock_drift, (), len(state.outputs))
        return None
    io.warn(state.lock_drift)
    return state.summary


def _compile_and_write(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    fmt: str,
    check: bool,
    max_targets: int | None,
    key: str,
) -> str | None:
    """Compile, compare and (unless `check`) write; the summary to say, or None."""
    from bakegen.pipeline import compile_workspace
    from bakegen.sources import Sources
    from bakegen.write import apply, plan_changes

    sources = Sources()
    compiled = compile_workspace(ws, manifest, fmt, max_targets, sources)
    io.warn(str(w) for w in compiled.warnings)
    changes = plan_changes(ws, compiled.outputs, OUTPUT_DIR)
    io.warn(f"{rel}: not made by bakegen; left alone" for rel in changes.foreign)
    if check:
        _conclude(io, compiled.lock_drift, changes.lines(), len(changes.unchanged))
        return None
    io.warn(compiled.lock_drift)
    apply(ws, compiled.outputs, changes)
    dockerfiles = {d.path for d in compiled.plan.dockerfiles}
    _remember(ws, key, sources, compiled, changes)
    return _summary(compiled.plan, dockerfiles, changes)


def _remember(ws: Path, key: str, sources: Sources, compiled: Compiled, changes: Any) -> None:
    """Record the state of a render that wrote its outputs (the log of the `Sources` it read
    through), for the next render to know them unchanged; forget it when the output folder
    holds files bakegen did not make (the next render warns about them again)."""
    if changes.foreign:
        cache.forget(ws)
        return
    dockerfiles = {d.path for d in compiled.plan.dockerfiles}
    unchanged = type(changes)(unchanged=sorted(compiled.outputs))
    cache.save(
        ws,
        cache.State(
            key=key,
            reads=sources.log,
            outputs=cache.outputs_of(compiled.outputs),
            warnings=[str(w) for w in compiled.warnings],
            lock_drift=list(compiled.lock_drift),
            summary=_summary(compiled.plan, dockerfiles, unchanged),
        ),
    )


def _conclude(io: Streams, lock_drift: Sequence[str], lines: Sequence[str], unchanged: int) -> None:
    """`render --check`: what would change, the lock's drift, and the verdict."""
    for line in (*lines, *lock_drift):
        io.out.print(one_line(line))
    if lines:
        raise Drift(f"{len(lines)} file(s) would change; run `bakegen render`")
    if lock_drift:
        raise Drift(f"the lock lacks {len(lock_drift)} base image(s); run `bakegen pin`")
    io.err.print(f"up to date: {unchanged} file(s)")


def _summary(plan: Any, dockerfiles: set[str], changes: Any) -> str:
    """The last line of a render: targets, and files created, updated, removed, unchanged."""
    counts = {"Dockerfiles": [0, 0, 0, 0], "other files": [0, 0, 0, 0]}
    for index, paths in enumerate(
        (changes.create, changes.update, changes.delete, changes.unchanged)
    ):
        for rel in paths:
            counts["Dockerfiles" if rel in dockerfiles else "other files"][index] += 1
    said = "; ".join(
        f"{kind}: {c} created, {u} updated, {d} removed, {n} unchanged"
        for kind, (c, u, d, n) in counts.items()
    )
    return f"{targets_line(plan)}. {said}"
