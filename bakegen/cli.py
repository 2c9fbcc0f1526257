"""The command line: typer wiring only. Each command reads its options and returns the exit code
of its module's `run` (one module per command in bakegen.commands); errors become one line and
their exit code in boundary.py (every code is in errors.py)."""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from bakegen.commands.completion import complete_targets
from bakegen.commands.options import MANIFEST, MAX_TARGETS, RENDER, WORKSPACE
from bakegen.commands.typer_options import declared, plain, typer_info
from bakegen.errors import EXIT_INTERRUPTED, EXIT_INVALID
from bakegen.layout import resolve_workspace
from bakegen.output import Deferred, Streams

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
# What click wraps standard output in when it found the pipe closed (it then exits with 1).
PACIFIED: Any = importlib.import_module(CLICK.__name__.rpartition(".")[0] + ".utils")


def io() -> Streams:
    """The consoles commands print to (tests replace `out` and `err`)."""
    return Streams(out, err)


Workspace = Annotated[Path | None, typer_info(WORKSPACE)]
Manifest = Annotated[Path | None, typer_info(MANIFEST)]
MaxTargets = Annotated[int | None, typer_info(MAX_TARGETS)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _version(value: bool) -> None:
    if value:
        from bakegen.commands import version

        raise typer.Exit(version.run(io()))


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
@declared(RENDER)
def render(ctx: typer.Context, **given: Any) -> int:
    """Render Dockerfiles under generated/ and the bake file."""
    from bakegen.commands import render as command

    ws, path = _where(ctx, given.pop("workspace"), given.pop("manifest"))
    return command.run(io(), ws, path, **plain(given))


@app.command()
def validate(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    max_targets: MaxTargets = None,
) -> int:
    """Check the manifest and its templates; write nothing."""
    from bakegen.commands import validate as command

    return command.run(io(), *_where(ctx, workspace, manifest), max_targets=max_targets)


@app.command("list")
def list_images(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    as_json: AsJson = False,
    max_targets: MaxTargets = None,
) -> int:
    """List the images: target, tags, platforms (tags as bake resolves them with this env)."""
    from bakegen.commands import list as command

    where = _where(ctx, workspace, manifest)
    return command.run(io(), *where, as_json=as_json, max_targets=max_targets)


@app.command()
def schema() -> int:
    """Print the manifest's JSON Schema (for editors and check-jsonschema)."""
    from bakegen.commands import schema as command

    return command.run(io())


@app.command()
def explain(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="A bake target (bakegen list shows them).", autocompletion=complete_targets
        ),
    ],
    workspace: Workspace = None,
    manifest: Manifest = None,
    as_json: AsJson = False,
) -> int:
    """Every value of one bake target, with the manifest line it comes from."""
    from bakegen.commands import explain as command

    where = _where(ctx, workspace, manifest)
    return command.run(io(), *where, target=target, as_json=as_json)


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"


@app.command()
def graph(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    fmt: Annotated[
        GraphFormat,
        typer.Option(
            "--format", "-f", help="mermaid (for markdown), dot, or svg or png (with Graphviz)."
        ),
    ] = GraphFormat.mermaid,
    package: Annotated[str | None, typer.Option(help="Only this package's images.")] = None,
    release_type: Annotated[
        str | None, typer.Option("--release-type", help="Only this release type's images.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Only this target, its parents and its children.")
    ] = None,
) -> int:
    """The image graph: what is built FROM what."""
    from bakegen.commands import graph as command

    ws, path = _where(ctx, workspace, manifest)
    return command.run(
        io(), ws, path, fmt=fmt.value, package=package, release_type=release_type, target=target
    )


@app.command()
def docs(
    ctx: typer.Context,
    workspace: Workspace = None,
    manifest: Manifest = None,
    write: Annotated[
        Path | None,
        typer.Option(help="Replace the text between <!-- bakegen:tags --> markers in FILE."),
    ] = None,
) -> int:
    """A Markdown table of every published image and its tags (with this environment)."""
    from bakegen.commands import docs as command

    return command.run(io(), *_where(ctx, workspace, manifest), write=write)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where (default: the current folder).")] = Path(
        "."
    ),
) -> int:
    """Write a starter workspace; refuse when any of its files exists."""
    from bakegen.commands import init as command

    return command.run(io(), directory=directory)


@app.command()
def smoke(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Images to test (default: all with tests).", autocompletion=complete_targets
        ),
    ] = None,
    workspace: Workspace = None,
    manifest: Manifest = None,
    no_gpu: Annotated[bool, typer.Option("--no-gpu", help="Skip tests that need a GPU.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the docker run commands; run nothing.")
    ] = False,
) -> int:
    """Run the declared tests of built images with docker run; exit 1 when one fails."""
    from bakegen.commands import smoke as command

    where = _where(ctx, workspace, manifest)
    return command.run(io(), *where, targets=targets or [], gpu=not no_gpu, dry_run=dry_run)


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
) -> int:
    """The bake targets whose build inputs changed since a git revision."""
    from bakegen.commands import affected as command

    where = _where(ctx, workspace, manifest)
    return command.run(io(), *where, since=since, as_json=as_json, bake=bake)


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
            help="PLATFORM=LABEL: a platform's runner, over workflow.runners (repeatable).",
            show_default=False,
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
        int, typer.Option(min=1, help="Most build jobs; past it, several images share a job.")
    ] = 1024,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the workflow would change.")
    ] = False,
    max_targets: MaxTargets = None,
) -> int:
    """Write a GitHub Actions workflow that builds the plan on native runners and merges by digest."""
    from bakegen.commands import ci_github as command

    return command.run(
        io(),
        *_where(ctx, workspace, manifest),
        output=output,
        requirement=requirement,
        runner=runner or [],
        gpu_runner=gpu_runner,
        branch=branch or [],
        max_jobs=max_jobs,
        check=check,
        max_targets=max_targets,
    )


@ci_app.command("ids")
def ci_ids(
    ctx: typer.Context,
    target: Annotated[
        list[str] | None,
        typer.Option(help="Only this image (repeatable).", autocompletion=complete_targets),
    ] = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    parent_digest: Annotated[
        list[str] | None,
        typer.Option(help="TARGET=sha256:...: hashed for TARGET in its children (repeatable)."),
    ] = None,
    workspace: Workspace = None,
    manifest: Manifest = None,
    as_json: AsJson = False,
) -> int:
    """The build id of each image on each platform: a sha256 of what decides its bytes."""
    from bakegen.commands import ci_ids as command

    where = _where(ctx, workspace, manifest)
    digests = parent_digest or []
    return command.run(io(), *where, target or [], platform, digests, as_json=as_json)


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
) -> int:
    """Resolve base images to digests in the lock file beside the manifest; render pins FROM."""
    from bakegen.commands import pin as command

    where = _where(ctx, workspace, manifest)
    return command.run(io(), *where, images=images or [], update=update, timeout=timeout)


@app.command()
def version() -> int:
    """Print bakegen's version."""
    from bakegen.commands.version import run as version_run

    return version_run(io())


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
        except SystemExit:
            if isinstance(sys.stdout, PACIFIED.PacifyFlushWrapper):  # a closed pipe (--help)
                raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE)) from None
            raise
        return result if isinstance(result, int) else 0

    boundary.exit_with(boundary.run(body, _say))


def _say(line: str, code: int) -> int:
    from bakegen.boundary import say

    return say(err, line, code)
