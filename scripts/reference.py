"""The README's manifest reference, made from the schema's descriptions (one source for
editors and readers): `python3 scripts/reference.py README.md` rewrites the tables between the
`<!-- bakegen:reference NAME -->` markers; a test keeps them equal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bakegen.schema.document import manifest_schema

END = "<!-- /bakegen:reference -->"


def begin(name: str) -> str:
    return f"<!-- bakegen:reference {name} -->"


def table(properties: dict[str, Any]) -> str:
    rows = ["| key | meaning |", "|---|---|"]
    rows += [f"| `{key}` | {spec.get('description', '')} |" for key, spec in properties.items()]
    return "\n".join(rows) + "\n"


def tables() -> dict[str, str]:
    schema = manifest_schema()
    return {
        "top-level": table(schema["properties"]),
        "release": table(schema["$defs"]["release"]["properties"]),
        "bake": table(schema["$defs"]["bake"]["properties"]),
    }


def rewrite(text: str) -> str:
    """`text` with every reference table replaced by the one the schema gives."""
    for name, body in tables().items():
        start = text.index(begin(name)) + len(begin(name))
        end = text.index(END, start)
        text = text[:start] + "\n" + body + text[end:]
    return text


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    text = path.read_text(encoding="utf-8")
    new = rewrite(text)
    if new != text:
        path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
