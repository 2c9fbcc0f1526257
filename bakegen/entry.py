"""The `bakegen` command: `render` and `--version` start without typer, everything else (and
any command line this module does not read exactly as typer would) goes to `bakegen.cli`.

typer builds its whole command tree and a pydantic type adapter per option before it runs a
command, which costs more than an unchanged render; this reader knows only `render`'s options
(the table `commands.options.RENDER`, which cli.py declares to typer too) in their plain
spelling, and hands over on anything else: `--help`, an `=` in an option, a repeated or unknown
option, a value that looks like an option, shell completion. tests/unit/test_entry.py runs both
readers on the same command lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bakegen.commands.options import RENDER

FLAGS = {flag: option for option in RENDER for flag in option.flags}


def read_render(argv: Sequence[str]) -> dict[str, Any] | None:
    """`render`'s options from `argv` (by their keyword in `commands.render.run`), or None when
    typer should read it."""
    given: dict[str, str | None] = {}
    before = True
    index = 0
    while index < len(argv):
        word = argv[index]
        if before and word == "render":
            before = False
            index += 1
            continue
        option = FLAGS.get(word)
        if option is None or (before and not option.before):
            return None
        key = ("global " if before else "") + option.name
        value = None if option.kind is bool else (argv[index + 1 : index + 2] or [""])[0]
        if key in given or value == "" or (value or "").startswith("-"):
            return None
        given[key] = value
        index += 1 if value is None else 2
    if before:
        return None
    return _values(given)


def _values(given: dict[str, str | None]) -> dict[str, Any] | None:
    """Each option's value (a flag given is True; a local option wins over a global one), or
    None when typer would refuse one."""
    values: dict[str, Any] = {}
    for option in RENDER:
        key = option.name if option.name in given else "global " + option.name
        try:
            values[option.name] = (
                (key in given) if option.kind is bool else option.read(given.get(key))
            )
        except ValueError:
            return None
    return values


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
    from bakegen.output import Lines, Streams, console

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
        io = Streams(out, err)
        if options is None:
            from bakegen.commands import version

            return version.run(io)
        from bakegen.commands import render
        from bakegen.layout import resolve_workspace

        given = dict(options)
        ws = resolve_workspace(given.pop("workspace") or Path("."))
        return render.run(io, ws, given.pop("manifest"), **given)

    boundary.exit_with(boundary.run(body, lambda line, code: boundary.say(err, line, code)))
