"""The command line: a thin layer over the pipeline; the one place errors become exit codes."""

from __future__ import annotations

import json
import os
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from bakegen import __version__
from bakegen.commands.ci_github import ci_github
from bakegen.errors import EXIT_DRIFT, BakegenError
from bakegen.layout import OUTPUT_DIR
from bakegen.listing import records
from bakegen.model import Plan
from bakegen.pipeline import compile_workspace, plan_workspace
from bakegen.schema import resource_text
from bakegen.write import apply, plan_changes, workspace_lock

app = typer.Typer(
    name="bakegen",
    help="Compile an image-matrix manifest into Dockerfiles and one docker buildx bake file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def console(
    *, stderr: bool = False, file: TextIO | None = None, width: int | None = None
) -> Console:
    """Output for people: colour only on a terminal (and never with NO_COLOR), text as given."""
    return Console(stderr=stderr, file=file, width=width, highlight=False, emoji=False)


out = console()
err = console(stderr=True)


class Format(str, Enum):
    hcl = "hcl"
    json = "json"


Workspace = Annotated[
    Path,
    typer.Option("--workspace", "-C", help="The workspace folder (default: the current one)."),
]
Manifest = Annotated[
    Path | None,
    typer.Option(
        "--manifest", "-m", help="A manifest YAML file or a folder of them (default: manifest/)."
    ),
]
MaxTargets = Annotated[
    int | None,
    typer.Option(
        "--max-targets", min=1, help="Refuse manifests expanding past this many bake targets."
    ),
]


def _resolve(workspace: Path, manifest: Path | None) -> tuple[Path, Path | None]:
    ws = workspace.resolve()
    if not ws.is_dir():
        raise typer.BadParameter(f"workspace folder not found: {workspace}")
    return ws, manifest.resolve() if manifest is not None else None


def _targets(plan: Plan) -> str:
    images, checks = len(plan.images), len(plan.verifies)
    return f"{images + checks} targets ({images} images, {checks} verify)"


@app.command()
def render(
    workspace: Workspace = Path("."),
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
    ws, path = _resolve(workspace, manifest)
    with workspace_lock(ws):
        compiled = compile_workspace(ws, path, fmt.value, max_targets)
        changes = plan_changes(ws, compiled.outputs, OUTPUT_DIR)
        for rel in changes.foreign:
            err.print(f"warning: {rel}: not made by bakegen; left alone")
        if check:
            for line in changes.lines():
                out.print(line)
            if changes.drift:
                err.print(f"{len(changes.lines())} file(s) would change; run `bakegen render`")
                raise typer.Exit(EXIT_DRIFT)
            err.print(f"up to date: {len(changes.unchanged)} file(s)")
            return
        apply(ws, compiled.outputs, changes)
    err.print(
        f"{_targets(compiled.plan)}, {len(compiled.plan.dockerfiles)} Dockerfiles: "
        f"{len(changes.create)} created, {len(changes.update)} updated, "
        f"{len(changes.delete)} removed, {len(changes.unchanged)} unchanged"
    )


@app.command()
def validate(
    workspace: Workspace = Path("."),
    manifest: Manifest = None,
    max_targets: MaxTargets = None,
) -> None:
    """Check the manifest and its templates; write nothing."""
    ws, path = _resolve(workspace, manifest)
    compiled = compile_workspace(ws, path, "hcl", max_targets)
    err.print(f"ok: {_targets(compiled.plan)}")


@app.command("list")
def list_images(
    workspace: Workspace = Path("."),
    manifest: Manifest = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    max_targets: MaxTargets = None,
) -> None:
    """List the images: target, tags, platforms (tags as bake resolves them with this env)."""
    ws, path = _resolve(workspace, manifest)
    plan = plan_workspace(ws, path, max_targets)
    rows = records(plan, os.environ)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("target", "python", "cuda", "platforms", "parent", "tags")
    for row in rows:
        table.add_row(
            row["target"],
            row["python"],
            row["cuda"] or "",
            ",".join(row["platforms"]),
            row["parent"] or "",
            "\n".join(row["tags"]) or ("(not pushed)" if not row["push"] else "(gated off)"),
        )
    out.print(table)


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (for editors and check-jsonschema)."""
    sys.stdout.write(resource_text("manifest.schema.json"))


ci_app = typer.Typer(help="Generate CI configuration.", no_args_is_help=True)
app.add_typer(ci_app, name="ci")


@ci_app.command("github")
def ci_github_command(
    workspace: Workspace = Path("."),
    manifest: Manifest = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The workflow file to write.")
    ] = ".github/workflows/bakegen.yml",
    requirement: Annotated[
        str | None, typer.Option(help="How the check job installs bakegen (a pip requirement).")
    ] = None,
    runner: Annotated[
        list[str] | None, typer.Option(help="PLATFORM=LABEL: the runner of a platform.")
    ] = None,
    branch: Annotated[list[str] | None, typer.Option(help="Branches whose pushes publish.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the workflow would change.")
    ] = False,
) -> None:
    """Write a GitHub Actions workflow building the plan across runners."""
    runners = dict(r.split("=", 1) for r in runner or [] if "=" in r)
    code = ci_github(
        workspace,
        manifest,
        output=output,
        requirement=requirement,
        runners=runners or None,
        branches=tuple(branch or ("main",)),
        check=check,
    )
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print bakegen's version."""
    out.print(__version__)


def main() -> None:
    """Run the CLI; errors become one line each and an exit code, never a traceback."""
    try:
        app(standalone_mode=True)
    except BakegenError as exc:
        for line in exc.lines():
            err.print(line, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the last resort: a bug in bakegen, not in the input
        if os.environ.get("BAKEGEN_DEBUG"):
            traceback.print_exc()
        else:
            err.print(
                f"internal error: {type(exc).__name__}: {exc} (set BAKEGEN_DEBUG=1 for a traceback)",
                markup=False,
            )
        sys.exit(70)
