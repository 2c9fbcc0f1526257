"""Output for people and machines: whole lines whatever the terminal width, user text never
read as markup, colour only on a terminal (never with NO_COLOR), tables only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table


def console(
    *, stderr: bool = False, file: TextIO | None = None, width: int | None = None
) -> Console:
    """A console that prints text as given: no markup, no emoji codes, no highlighting, and
    no wrapping (soft wrap), so a pipe or a CI log gets whole lines."""
    return Console(
        stderr=stderr,
        file=file,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=True,
    )


def table(out: Console, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-separated whole lines (with a header) anywhere else."""
    if out.is_terminal:
        grid = Table(*columns)
        for row in rows:
            grid.add_row(*row)
        out.print(grid, soft_wrap=False)
        return
    for row in [list(columns), *rows]:  # written as they are: rich would expand the tabs
        out.file.write("\t".join(cell.replace("\n", " ").replace("\t", " ") for cell in row) + "\n")


def stdout_usable() -> bool:
    """Whether there is a standard output to write to (it is None when fd 1 was closed)."""
    return sys.stdout is not None
