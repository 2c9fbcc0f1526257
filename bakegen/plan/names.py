"""How bake target names are formed, and how versions are ordered."""

from __future__ import annotations

import functools
import re


def slug(text: str) -> str:
    """A name part usable in a bake target name: dots become dashes."""
    return text.replace(".", "-")


def python_slug(python: str) -> str:
    """`3.10` -> `py310`."""
    return "py" + python.replace(".", "")


def cuda_slug(cuda: str) -> str:
    """`12.4.1` -> `cuda12-4`: one CUDA version per X.Y in target names."""
    major, minor, *_ = cuda.split(".")
    return f"cuda{major}-{minor}"


@functools.lru_cache(maxsize=1024)
def version_key(text: str) -> tuple[int, ...]:
    """Order versions numerically where they are numeric (3.9 before 3.10)."""
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.-]", text))


def target_name(
    package: str, release_type: str, distro_id: str, python: str, cuda: str | None
) -> str:
    parts = [package, release_type, slug(distro_id), python_slug(python)]
    if cuda:
        parts.append(cuda_slug(cuda))
    return "-".join(parts)
