"""What a name may look like, and how bake target names are formed from names."""

from __future__ import annotations

import re

# Names that become path parts, tag parts, bake target and group names.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Distro versions become path parts and tag parts: 12, 3.20, 24.04.
VERSION_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PYTHON_VERSION = re.compile(r"^[0-9]+\.[0-9]+$")
CUDA_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TAG_TEXT = re.compile(r"^[A-Za-z0-9_.-]*$")
PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
IMAGE_REPO = re.compile(
    r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._]|__|-+)?([a-z0-9]+([._]|__|-+))*[a-z0-9]*)+$"
)
IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$")
PACKAGE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$")
SECRET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
BAKE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
# URL parts that templates write into RUN lines unquoted: no spaces, quotes or shell characters.
URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%+-]*)*$")
URL_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~%+/-]*$")
# A Dockerfile parser directive (`# escape=`` `) changes how every later line is read.
DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=", re.ASCII)


def slug(text: str) -> str:
    """A name part usable in a bake target name: dots become dashes."""
    return text.replace(".", "-")


def python_slug(python: str) -> str:
    """`3.10` -> `py310`."""
    return "py" + python.replace(".", "")


def version_key(text: str) -> tuple[int, ...]:
    """Order versions numerically where they are numeric (3.9 before 3.10)."""
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.-]", text))


def target_name(package: str, release: str, distro_id: str, python: str, cuda: str | None) -> str:
    parts = [package, release, slug(distro_id), python_slug(python)]
    if cuda:
        major, minor, _ = cuda.split(".")
        parts.append(f"cuda{major}-{minor}")
    return "-".join(parts)
