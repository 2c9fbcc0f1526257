"""The scripts the generated workflow's `shell: python` steps run: the files in
bakegen/resources/github/, from their marker line on, so that ruff and mypy read them and the
tests run the very text the workflow holds. Each reads its inputs from the environment (its
docstring lists them) and needs only Python 3 and `docker buildx` on the runner (sign: cosign
too, which its job installs)."""

from __future__ import annotations

from bakegen.resources import resource_text

START = "# --- the workflow's step runs the rest of this file, as it is ---\n"
BAKE_SETTINGS = "bake_settings"
EXPORT_DIGESTS = "export_digests"
GATES = "gates"
MERGE = "merge"
IMAGE_TAGS = "image_tags"
SIGN = "sign"


def script(name: str) -> str:
    """The text a step runs: the file `name`.py after its marker line."""
    _head, found, body = resource_text(f"github/{name}.py").partition(START)
    if not found:
        raise ValueError(f"resources/github/{name}.py: no {START.strip()!r} line")
    return body
