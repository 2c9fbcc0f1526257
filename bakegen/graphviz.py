"""Graphviz for `bakegen graph --format svg|png`: the DOT text of `bakegen graph --format dot`
laid out by Graphviz's `dot`, which must be on PATH (the Debian package graphviz). A missing
`dot` is one line naming the package (exit 2); PNG is binary, so it is refused on a terminal."""

from __future__ import annotations

import shutil
import subprocess
import sys

from bakegen.errors import OutputUnwritable, UsageError

FORMATS = ("svg", "png")
INSTALL = (
    "install Graphviz (Debian and Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
)


def draw(dot_text: str, fmt: str) -> bytes:
    """The picture of `dot_text` in `fmt` (svg or png), as `dot -T<fmt>` lays it out."""
    dot = shutil.which("dot")
    if dot is None:
        raise UsageError(
            f"graph --format {fmt} needs Graphviz's `dot`, which is not on PATH; {INSTALL}, "
            "or use --format dot"
        )
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, check=False
        )
    except OSError as exc:
        raise UsageError(f"graph --format {fmt}: cannot run {dot}: {exc.strerror}") from exc
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[0] if said else f"exit code {done.returncode}"
        raise UsageError(f"graph --format {fmt}: dot failed: {reason}")
    return done.stdout


def write(data: bytes, fmt: str) -> None:
    """`data` on standard output as bytes; a PNG is not written to a terminal."""
    out = sys.stdout
    if out is None:
        raise OutputUnwritable("standard output is closed")
    if fmt == "png" and out.isatty():
        raise UsageError("graph --format png writes binary: redirect it, e.g. > images.png")
    out.flush()
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a text stream without bytes beneath (tests): SVG is UTF-8 text
        out.write(data.decode("utf-8", "replace"))
        return
    buffer.write(data)
    buffer.flush()
