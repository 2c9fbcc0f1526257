"""`bakegen render`: write the Dockerfiles and the bake file, only what changed.

When the state of the last render (`bakegen.cache`) shows that nothing it read or wrote has
changed, nothing is compiled: the render says what it said then, and writes nothing. Otherwise
the manifest is compiled through one `Sources`, the tree compared and changed files written all
or nothing, and the state recorded for the next render: that reader's log, the key, the outputs'
digests and what the render said.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bakegen import cache
from bakegen.errors import Drift, one_line
from bakegen.layout import OUTPUT_DIR
from bakegen.write import workspace_lock

if TYPE_CHECKING:
    from bakegen.pipeline import Compiled
    from bakegen.sources import Sources


class Printer(Protocol):
    def print(self, text: str) -> Any: ...


Progress = Callable[[str], contextlib.AbstractContextManager[Any]]


def targets_line(plan: Any) -> str:
    images, checks = len(plan.images), len(plan.verifies)
    return f"{images + checks} targets ({images} images, {checks} verify)"


def render(
    ws: Path,
    manifest: Path | None,
    fmt: str,
    *,
    check: bool,
    max_targets: int | None,
    out: Printer,
    err: Printer,
    progress: Progress,
) -> None:
    """Render the workspace `ws` (resolved) into its output folder; with `check`, write nothing
    and raise `Drift` when anything would change."""

    def waiting() -> None:
        err.print(f"waiting for another bakegen render of {ws} to finish...")

    def warn(warnings: Iterable[str]) -> None:
        for warning in warnings:
            err.print(one_line(f"warning: {warning}"))

    with workspace_lock(ws, on_wait=waiting), progress("rendering"):
        key = cache.key(ws, manifest, fmt, max_targets)
        state = cache.unchanged(ws, key)
        if state is not None:  # every input and output as the last render left them
            warn(state.warnings)
            _conclude(out, err, check, state.lock_drift, (), len(state.outputs))
            if not check:
                warn(state.lock_drift)
                err.print(state.summary)
            return
        from bakegen.pipeline import compile_workspace
        from bakegen.sources import Sources
        from bakegen.write import apply, plan_changes

        sources = Sources()
        compiled = compile_workspace(ws, manifest, fmt, max_targets, sources)
        warn(str(w) for w in compiled.warnings)
        changes = plan_changes(ws, compiled.outputs, OUTPUT_DIR)
        warn(f"{rel}: not made by bakegen; left alone" for rel in changes.foreign)
        if check:
            _conclude(out, err, check, compiled.lock_drift, changes.lines(), len(changes.unchanged))
            return
        warn(compiled.lock_drift)
        apply(ws, compiled.outputs, changes)
        dockerfiles = {d.path for d in compiled.plan.dockerfiles}
        said = _summary(compiled.plan, dockerfiles, changes)
        _remember(ws, key, sources, compiled, changes)
    err.print(said)


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


def _conclude(
    out: Printer,
    err: Printer,
    check: bool,
    lock_drift: Sequence[str],
    lines: Sequence[str],
    unchanged: int,
) -> None:
    """`render --check`: what would change, the lock's drift, and the verdict."""
    if not check:
        return
    for line in (*lines, *lock_drift):
        out.print(one_line(line))
    if lines:
        raise Drift(f"{len(lines)} file(s) would change; run `bakegen render`")
    if lock_drift:
        raise Drift(f"the lock lacks {len(lock_drift)} base image(s); run `bakegen pin`")
    err.print(f"up to date: {unchanged} file(s)")


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
