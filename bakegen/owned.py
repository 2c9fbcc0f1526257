"""Which files are bakegen's: the marker a generated file starts with, and a killed run's staged or
backup files."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from bakegen.layout import MARKER

# The marker follows the header of a Dockerfile, which may be long: look that far.
SNIFF_BYTES = 1024 * 1024
MARKER_LINE = f"# {MARKER}"
JSON_HEAD = ("{", '  "variable": {', '    "BAKEGEN": {', f'      "default": "{MARKER}"')
LEFTOVER = re.compile(r"^(?P<name>.+)\.[0-9a-f]{8}(?P<suffix>\.bakegen-(?:tmp|bak))$")


def owned(text: str, *, json_file: bool = False) -> bool:
    """Whether `text` is bakegen's: the marker line in its leading comment lines (after a
    Dockerfile's header), or, for a JSON bake file, its first variable `BAKEGEN`."""
    lines = text.split("\n")
    if json_file:
        return tuple(lines[: len(JSON_HEAD)]) == JSON_HEAD
    for line in lines:
        if line == MARKER_LINE or line.startswith(MARKER_LINE + " ("):
            return True
        if line.strip() and not line.startswith("#"):
            return False
    return False


def _head(path: Path) -> str | None:
    """The first bytes of a regular file as text, or None (a FIFO is never opened)."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def is_generated(path: Path) -> bool:
    """Whether `path` is a regular file that is bakegen's."""
    head = _head(path)
    match = LEFTOVER.match(path.name)
    name = match.group("name") if match else path.name
    return head is not None and owned(head, json_file=name.endswith(".json"))


def is_leftover(path: Path) -> bool:
    """Whether `path` is a killed run's staged or backup file: bakegen's name and bakegen's
    text (a staged file may be empty, or cut short inside its header)."""
    if not LEFTOVER.match(path.name):
        return False
    head = _head(path)
    if head is None:
        return False
    if not head or is_generated(path):
        return True
    lines = head.split("\n")
    return all(not line.strip() or line.startswith("#") for line in lines[:-1]) and (
        lines[-1].startswith("#") or lines[-1] == ""
    )
