"""The `bakegen` command: `render` and `--version` start without typer, everything else (and
any command line this module does not read exactly as typer would) goes to `bakegen.cli`.

typer builds its whole command tree and a pydantic type adapter per option before it runs a
command, which costs more than an unchanged render; this reader knows only `render`'s options
(`-C`, `-m`, `-f`/`--format`, `--check`, `--max-targets`, with -C and -m also before the
command) in their plain spelling, and hands over on anything else: `--help`, an `=` in an
option, a repeated or unknown option, a value that looks like an option, shell completion.
tests/test_entry.py runs both readers on the same command lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bakegen import __version__

VALUED = {
    "-C": "workspace",
    "--workspace": "workspace",
    "-m": "manifest",
    "--manifest": "manifest",
    "-f": "format",
    "--format": "format",
    "--max-targets": "max_targets",
}
GLOBAL = frozenset({"workspace", "manifest"})


def read_render(argv: Sequence[str]) -> dict[str, Any] | None:
    """`render`'s options from `argv`, or None when typer should read it."""
    given: dict[str, Any] = {}
    before = True
    index = 0
    while index < len(argv):
        word = argv[index]
        if before and word == "render":
            before = False
            index += 1
            continue
        if word == "--check" and not before and "check" not in given:
            given["check"] = True
            index += 1
            continue
        name = VALUED.get(word)
        if name is None or index + 1 >= len(argv):
            return None
        value = argv[index + 1]
        key = ("global " if before else "") + name
        if (before and name not in GLOBAL) or key in given or not value or value.startswith("-"):
            return None
        given[key] = value
        index += 2
    if before:
        return None
    fmt = given.get("format", "hcl")
    limit = given.get("max_targets")
    if fmt not in ("hcl", "json") or (
        limit is not None and not (limit.isascii() and limit.isdigit() and int(limit) >= 1)
    ):
        return None
    workspace = given.get("workspace") or given.get("global workspace")
    manifest = given.get("manifest") or given.get("global manifest")
    return {
        "workspace": Path(workspace) if workspace else None,
        "manifest": Path(manifest) if manifest else None,
        "fmt": fmt,
        "check": given.get("check", False),
        "max_targets": int(limit) if limit is not None else None,
    }


def _completing() -> bool:
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


def main(argv: Sequence[str] | None = None, out: Any = None, err: Any = None) -> None:
    """Run `bakegen ARGV` (default: the process's arguments) and exit with its code; `out` and
    `err` are consoles to print to (default: standard output and error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    options = None if _completing() else read_render(args)
    if options is None and args not in (["--version"], ["version"]):
        from bakegen import cli

        cli.main()
        return
    from bakegen import boundary
    from bakegen.output import Lines, console, progress

    def made(stderr: bool) -> Any:
        stream = sys.stderr if stderr else sys.stdout
        return (
            console(stderr=stderr)
            if stream is not None and stream.isatty()
            else Lines(stderr=stderr)
        )

    out = out if out is not None else made(False)
    err = err if err is not None else made(True)

    def body() -> int:
        if options is None:
            out.print(__version__)
            return 0
        from bakegen.commands.render import render
        from bakegen.layout import resolve_workspace

        render(
            resolve_workspace(options["workspace"] or Path(".")),
            options["manifest"],
            options["fmt"],
            check=options["check"],
            max_targets=options["max_targets"],
            out=out,
            err=err,
            progress=lambda what: progress(err, what),
        )
        return 0

    boundary.exit_with(boundary.run(body, lambda line, code: boundary.say(err, line, code)))
