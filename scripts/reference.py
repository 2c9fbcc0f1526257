"""The documentation's generated parts, made from the one place each is written:

- docs/reference/manifest.md from the manifest's JSON Schema (scripts/reference_manifest.py),
- docs/reference/commands.md from the command line (scripts/reference_commands.py),
- docs/images/*.svg, `bakegen graph --format svg` of the starter, example and notebook-family workspaces
  (scripts/reference_pictures.py; redrawn with Graphviz only when the graph changed).

`python3 -m scripts.reference` writes whatever is out of date and names it;
`python3 -m scripts.reference --check` writes nothing and exits 1 naming what is. Tests keep
every part equal to what this makes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bakegen.schema.document import manifest_schema
from scripts.reference_commands import commands_page
from scripts.reference_manifest import manifest_page
from scripts.reference_pictures import ROOT, redraw, stale


def pages(schema: dict[str, Any] | None = None) -> dict[Path, str]:
    """Every generated page by its path in the repository."""
    return {
        Path("docs/reference/manifest.md"): manifest_page(schema or manifest_schema()),
        Path("docs/reference/commands.md"): commands_page(),
    }


def out_of_date(root: Path = ROOT) -> dict[Path, str]:
    """The generated texts that differ from the files (pictures: their DOT source)."""
    found = {
        rel: text
        for rel, text in pages().items()
        if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != text
    }
    return {**found, **stale(root)}


def main(argv: list[str]) -> int:
    changed = out_of_date()
    for rel, text in changed.items():
        if "--check" in argv:
            print(f"{rel}: out of date; run python3 -m scripts.reference", file=sys.stderr)
        elif rel.suffix == ".svg":
            redraw(rel, text)
            print(f"{rel}: redrawn", file=sys.stderr)
        else:
            (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
            (ROOT / rel).write_text(text, encoding="utf-8")
            print(f"{rel}: written", file=sys.stderr)
    return 1 if changed and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
