"""`bakegen ci github`: a GitHub Actions workflow that builds the plan across runners."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bakegen.errors import Drift, UsageError
from bakegen.github.jobs import DEFAULT_MAX_JOBS, DEFAULT_OUTPUT, Options, merge_jobs, waves
from bakegen.github.output import check_output
from bakegen.github.workflow import workflow
from bakegen.output import Streams
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.write import apply, plan_changes, workspace_lock


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    *,
    output: str = DEFAULT_OUTPUT,
    requirement: str | None = None,
    runner: Sequence[str] = (),
    gpu_runner: str | None = None,
    branch: Sequence[str] = (),
    max_jobs: int = DEFAULT_MAX_JOBS,
    check: bool = False,
    max_targets: int | None = None,
) -> int:
    """Write the workflow and say what it holds; with `check`, write nothing and raise `Drift`
    when it would change."""
    defaults = Options()
    options = Options(
        output=output,
        requirement=requirement or defaults.requirement,
        runners={**defaults.runners, **dict(runner_option(r) for r in runner)},
        branches=tuple(branch or defaults.branches),
        max_jobs=max_jobs,
        gpu_runner=gpu_runner,
    )
    io.err.print(write_workflow(ws, manifest, options, check=check, max_targets=max_targets))
    return 0


def write_workflow(
    workspace: Path,
    manifest: Path | None = None,
    options: Options | None = None,
    *,
    check: bool = False,
    max_targets: int | None = None,
) -> str:
    """Write the workflow (only when it changed; never over a file without bakegen's marker) and
    say what it holds. With `check`, write nothing and raise `Drift` when it would change."""
    options = options or Options()
    output = options.output
    with workspace_lock(workspace):
        typed = read_manifest(workspace, manifest)
        check_output(workspace, manifest, typed, output)
        plan = plan_manifest(typed, max_targets)
        manifest_arg = manifest.as_posix() if manifest is not None else None
        outputs = {output: workflow(typed, plan, options, manifest_arg)}
        changes = plan_changes(workspace, outputs, str(Path(output).parent))
        changes.delete.clear()  # this command removes nothing
        changes.foreign.clear()
        if check:
            if changes.drift:
                raise Drift(f"{output} would change; run `bakegen ci github`")
        else:
            apply(workspace, outputs, changes)
    if check:
        state = "up to date"
    else:
        state = "unchanged" if changes.unchanged else ("updated" if changes.update else "created")
    found = waves(plan, options)
    builds = sum(len(w.entries) for w in found)
    merges = len(merge_jobs(plan.images, options))
    return f"{output}: {state}; {len(found)} waves of {builds} builds, {merges} merge jobs"


def runner_option(text: str) -> tuple[str, str]:
    """`PLATFORM=LABEL` of `--runner`."""
    platform, sep, label = text.partition("=")
    if not sep or not label or not platform:
        raise UsageError(f"--runner {text!r}: write PLATFORM=RUNNER-LABEL, e.g. linux/arm64=my-arm")
    return platform, label
