"""The command line: typer wiring over the pipeline and the commands; the one place where
errors become messages and exit codes (every code is in errors.py)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from bakegen import __version__
from bakegen.commands.render import targets_line
from bakegen.errors import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    OutputUnwritable,
    UsageError,
    one_line,
)
from bakegen.layout import resolve_workspace
from bakegen.output import Deferred, progress, table

app = typer.Typer(
    name="bakegen",
    help="Compile an image-matrix manifest into Dockerfiles and one docker buildx bake file.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

out: Any = Deferred()
err: Any = Deferred(stderr=True)
# The click exceptions typer raises (typer bundles its own click from 0.16 on).
CLICK: Any = importlib.import_module(
    "typer._click.exceptions" if importlib.util.find_spec("typer._click") else "click.exceptions"
)
# No arguments at all: the help, as a usage error (absent before click 8.2: never raised then).
NO_ARGS: Any = getattr(CLICK, "NoArgsIsHelpError", ())


class Format(str, Enum):
    hcl = "hcl"
    json = "json"


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"


WORKSPACE_HELP = "The workspace folder (default: the current one)."
MANIFEST_HELP = "A manifest YAML file or folder, relative to the workspace (default: manifest/)."
Workspace = Annotated[
    Path | None, typer.Option("--workspace", "-C", help=WORKSPACE_HELP, show_default=False)
]
Manifest = Annotated[
    Path | None, typer.Option("--manifest", "-m", help=MANIFEST_HELP, show_default=False)
]
MaxTargets = Annotated[
    int | None,
    typer.Option(
        "--max-targets", min=1, help="Refuse manifests expanding past this many bake targets."
    ),
]


def _version(value: bool) -> None:
    if value:
        out.print(__version__)
        raise typer.Exit


@app.callback()
def main_options(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Compile an image-matrix manifest into Dockerfiles and one docker buildx bake file.

    -C and -m may stand before the command (as with git -C) or after it.
    """
    del version  # handled by its callback
    ctx.obj = {"workspace": workspace, "manifest": manifest}


def _where(
    ctx: typer.Context, workspace: Path | None, manifest: Path | None
) -> tuple[Path, Path | None]:
    """The workspace folder and the manifest path given here or before the command."""
    given = ctx.obj or {}
    folder = workspace or given.get("workspace") or Path(".")
    return resolve_workspace(folder), manifest or given.get("manifest")


@app.command()
def render(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Bake file format: hcl or json.")
    ] = Format.hcl,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 listing what would change.")
    ] = False,
    max_targets: MaxTargets = None,
) -> None:
    """Render Dockerfiles under generated/ and the bake file."""
    from bakegen.commands.render import render as run_render

    ws, path = _where(ctx, workspace, manifest)
    run_render(
        ws,
        path,
        fmt.value,
        check=check,
        max_targets=max_targets,
        out=out,
        err=err,
        progress=_progress,
    )


@app.command()
def validate(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    max_targets: MaxTargets = None,
) -> None:
    """Check the manifest and its templates; write nothing."""
    from bakegen.pipeline import compile_workspace

    ws, path = _where(ctx, workspace, manifest)
    compiled = compile_workspace(ws, path, "hcl", max_targets)
    _warn(compiled.warnings)
    err.print(f"ok: {targets_line(compiled.plan)}")


@app.command("list")
def list_images(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    max_targets: MaxTargets = None,
) -> None:
    """List the images: target, tags, platforms (tags as bake resolves them with this env)."""
    from bakegen.commands.list import records
    from bakegen.pipeline import plan_workspace

    ws, path = _where(ctx, workspace, manifest)
    rows = records(plan_workspace(ws, path, max_targets), os.environ)
    if as_json:
        _write_stdout(json.dumps(rows, indent=2) + "\n")
        return
    table(
        out,
        ("target", "python", "cuda", "platforms", "parent", "tags"),
        [
            (
                row["target"],
                row["python"],
                row["cuda"] or "",
                ",".join(row["platforms"]),
                row["parent"] or "",
                " ".join(row["tags"]) or ("(not pushed)" if not row["push"] else "(gated off)"),
            )
            for row in rows
        ],
    )


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (for editors and check-jsonschema)."""
    from bakegen.resources import resource_text
    from bakegen.schema.document import SCHEMA

    _write_stdout(resource_text(SCHEMA))


def _complete_targets(ctx: typer.Context, incomplete: str) -> list[str]:
    """Target names for shell completion, from the workspace given or the current folder."""
    from bakegen.pipeline import plan_workspace

    params = ctx.params or {}
    workspace = params.get("workspace") or (
        ctx.parent.params.get("workspace") if ctx.parent else None
    )
    try:
        plan = plan_workspace((workspace or Path(".")).resolve())
    except Exception:  # completion never fails loudly
        return []
    names = [i.target for i in plan.images] + [v.target for v in plan.verifies]
    return [n for n in names if n.startswith(incomplete)]


@app.command()
def explain(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="A bake target (bakegen list shows them).", autocompletion=_complete_targets
        ),
    ],
    workspace: Workspace = None,
    manifest: Manifest = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Every value of one bake target, with the manifest line it comes from."""
    from bakegen.commands.explain import as_json as explained_json
    from bakegen.commands.explain import as_text
    from bakegen.commands.explain import explain as explain_target
    from bakegen.pipeline import plan_manifest, read_manifest

    ws, path = _where(ctx, workspace, manifest)
    typed = read_manifest(ws, path)
    note, rows = explain_target(typed, plan_manifest(typed), target)
    if as_json:
        _write_stdout(json.dumps(explained_json(target, note, rows), indent=2) + "\n")
        return
    for line in as_text(target, note, rows):
        out.print(line)


@app.command()
def graph(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="mermaid (for markdown) or dot.")
    ] = GraphFormat.mermaid,
    package: Annotated[str | None, typer.Option(help="Only this package's images.")] = None,
    release_type: Annotated[
        str | None, typer.Option("--release-type", help="Only this release type's images.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Only this target, its parents and its children.")
    ] = None,
) -> None:
    """The image graph: what is built FROM what."""
    from bakegen.commands import graph as drawing
    from bakegen.pipeline import plan_workspace

    ws, path = _where(ctx, workspace, manifest)
    images = drawing.select(
        plan_workspace(ws, path), package=package, release_type=release_type, target=target
    )
    if not images:
        raise UsageError("no image matches those options; bakegen list shows them all")
    text = drawing.mermaid(images) if fmt == GraphFormat.mermaid else drawing.dot(images)
    _write_stdout(text)


@app.command()
def docs(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    write: Annotated[
        Path | None,
        typer.Option(help="Replace the text between <!-- bakegen:tags --> markers in FILE."),
    ] = None,
) -> None:
    """A Markdown table of every published image and its tags (with this environment)."""
    from bakegen.commands.docs import replace_between_markers
    from bakegen.commands.docs import table as tag_table
    from bakegen.pipeline import plan_workspace

    ws, path = _where(ctx, workspace, manifest)
    text = tag_table(plan_workspace(ws, path), os.environ)
    if write is None:
        _write_stdout(text)
        return
    try:
        current = write.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{write}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    updated = replace_between_markers(current, text, str(write))
    if updated != current:
        write.write_text(updated, encoding="utf-8")
        err.print(f"{write}: image table updated")
    else:
        err.print(f"{write}: image table up to date")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where (default: the current folder).")] = Path(
        "."
    ),
) -> None:
    """Write a starter workspace; refuse when any of its files exists."""
    from bakegen.commands.init import init as make

    written = make(directory)
    for rel in written:
        err.print(f"created {directory / rel}")
    err.print(f"next: bakegen -C {directory} render && docker buildx bake --print")


@app.command()
def smoke(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Images to test (default: all with tests).", autocompletion=_complete_targets
        ),
    ] = None,
    workspace: Workspace = None,
    manifest: Manifest = None,
    no_gpu: Annotated[bool, typer.Option("--no-gpu", help="Skip tests that need a GPU.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the docker run commands; run nothing.")
    ] = False,
) -> None:
    """Run the declared tests of built images with docker run; exit 1 when one fails."""
    from bakegen.commands.smoke import smoke as run_smoke
    from bakegen.pipeline import plan_workspace

    ws, path = _where(ctx, workspace, manifest)
    code, outcomes = run_smoke(
        plan_workspace(ws, path),
        os.environ,
        targets or [],
        gpu=not no_gpu,
        dry_run=dry_run,
        say=out.print,
    )
    if outcomes:
        table(
            out,
            ("target", "test", "result", "detail"),
            [(o.target, o.test, o.result, o.detail) for o in outcomes],
        )
    if code:
        raise typer.Exit(code)


@app.command()
def affected(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(help="A git revision to compare with, e.g. origin/main.")],
    workspace: Workspace = None,
    manifest: Manifest = None,
    as_json: Annotated[bool, typer.Option("--json", help="Each target with its reasons.")] = False,
    bake: Annotated[
        Path | None, typer.Option(help="Write a bake file with one group `affected` here.")
    ] = None,
) -> None:
    """The bake targets whose build inputs changed since a git revision."""
    from bakegen.commands.affected import affected as find
    from bakegen.commands.affected import bake_file

    ws, path = _where(ctx, workspace, manifest)
    found = find(ws, since, path)
    if found.note:
        err.print(f"warning: {found.note}")
    if bake is not None:
        bake.write_text(bake_file(list(found.targets)), encoding="utf-8")
    if as_json:
        _write_stdout(json.dumps(found.targets, indent=2) + "\n")
        return
    for target in found.targets:
        out.print(target)


ci_app = typer.Typer(help="Generate CI configuration from the plan.", no_args_is_help=True)
app.add_typer(ci_app, name="ci")


@ci_app.command("github")
def ci_github(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The workflow file to write, in the workspace.")
    ] = ".github/workflows/bakegen.yml",
    requirement: Annotated[
        str | None,
        typer.Option(
            help="How the check job installs bakegen (a pip requirement).", show_default=False
        ),
    ] = None,
    runner: Annotated[
        list[str] | None,
        typer.Option(
            help="PLATFORM=LABEL: the runner of a platform (repeatable).", show_default=False
        ),
    ] = None,
    gpu_runner: Annotated[
        str | None,
        typer.Option(help="Add a job running `bakegen smoke` (GPU tests) on this runner label."),
    ] = None,
    branch: Annotated[
        list[str] | None, typer.Option(help="Branches whose pushes publish (default: main).")
    ] = None,
    max_jobs: Annotated[
        int,
        typer.Option(min=1, help="Most build jobs; past it, several images share a job."),
    ] = 1024,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the workflow would change.")
    ] = False,
    max_targets: MaxTargets = None,
) -> None:
    """Write a GitHub Actions workflow that builds the plan on native runners and merges by digest."""
    from bakegen.commands import ci_github as gh
    from bakegen.github.jobs import Options

    ws, path = _where(ctx, workspace, manifest)
    defaults = Options()
    options = Options(
        output=output,
        requirement=requirement or defaults.requirement,
        runners={**defaults.runners, **dict(gh.runner_option(r) for r in runner or [])},
        branches=tuple(branch or defaults.branches),
        max_jobs=max_jobs,
        gpu_runner=gpu_runner,
    )
    err.print(gh.ci_github(ws, path, options, check=check, max_targets=max_targets))


@app.command()
def pin(
    ctx: typer.Context,
    images: Annotated[
        list[str] | None,
        typer.Argument(help="Base images to resolve again (with --update; default: all)."),
    ] = None,
    workspace: Workspace = None,
    manifest: Manifest = None,
    update: Annotated[
        bool,
        typer.Option("--update", help="Resolve the images again, not only those the lock lacks."),
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=600, help="Seconds to wait for each registry answer.")
    ] = 20.0,
) -> None:
    """Resolve base images to digests in the lock file beside the manifest; render pins FROM."""
    from bakegen.commands.pin import pin as resolve
    from bakegen.pin.registry import Client

    ws, path = _where(ctx, workspace, manifest)
    if images and not update:
        raise UsageError("naming images re-resolves them: add --update")
    with _progress("resolving base images"):
        outcome = resolve(
            ws, path, Client(timeout=timeout), os.environ, update=update, only=images or []
        )
    for row in outcome.rows:
        out.print(one_line(f"{row.image}  {row.digest}  {row.change}"))
    err.print(one_line(outcome.summary))


@app.command()
def version() -> None:
    """Print bakegen's version."""
    out.print(__version__)


def _progress(what: str) -> contextlib.AbstractContextManager[Any]:
    return progress(err, what)


def _warn(warnings: Any) -> None:
    for warning in warnings:
        err.print(one_line(f"warning: {warning}"))


def _write_stdout(text: str) -> None:
    if sys.stdout is None:
        raise OutputUnwritable("standard output is closed")
    sys.stdout.write(text)


def main() -> None:
    """Run the CLI; errors become one line each and an exit code, never a traceback."""
    from bakegen import boundary

    def body() -> int:
        try:
            result = app(standalone_mode=False)
        except typer.Exit as exc:
            return exc.exit_code
        except NO_ARGS as exc:
            return _say(exc.format_message(), EXIT_INVALID)
        except CLICK.ClickException as exc:
            return _say(f"bakegen: error: {exc.format_message()}", EXIT_INVALID)
        except typer.Abort:
            return _say("bakegen: interrupted; nothing was changed", EXIT_INTERRUPTED)
        return result if isinstance(result, int) else 0

    boundary.exit_with(boundary.run(body, _say))


def _say(line: str, code: int) -> int:
    from bakegen.boundary import say

    return say(err, line, code)
