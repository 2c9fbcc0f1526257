"""Reading inputs as bakegen reads every input."""

from __future__ import annotations

BOM = "\ufeff"


def decode_utf8(raw: bytes) -> str | tuple[int, int]:
    """`raw` as text (a leading BOM dropped), or the 1-based line and column of its first bad
    byte (the column counts characters)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        return line, len(before) - (before.rfind("\n") + 1) + 1
    return text[1:] if text.startswith(BOM) else text
