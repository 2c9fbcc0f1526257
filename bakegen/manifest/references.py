"""What names and image references may look like, and how bake target names are formed.

Format rules of the manifest's own values live in the JSON Schema; what is here is what only
the expanded matrix shows: the tags bakegen forms, and the names of bake targets.
"""

from __future__ import annotations

import re

# The image reference grammar of distribution/reference (the schema's `image_reference` and
# `image_repository` are built from the same parts; a test keeps them equal).
PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
DOMAIN_COMPONENT = r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])"
DOMAIN = rf"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*(?::[0-9]+)?"
REPOSITORY = rf"(?:{DOMAIN}/)?{PATH_COMPONENT}(?:/{PATH_COMPONENT})*"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})"
REFERENCE = rf"{REPOSITORY}(?::{TAG})?(?:@{DIGEST})?"
MAX_REPOSITORY = 255
_TAG = re.compile(rf"^{TAG}\Z")
_REPOSITORY = re.compile(rf"^{REPOSITORY}\Z")
DEFAULT_DOMAIN = "docker.io"


def tag_problem(reference: str) -> str | None:
    """Why `reference` (`repository:tag`) is not a valid image reference, or None."""
    repo, _, tag = reference.rpartition(":")
    if not _REPOSITORY.match(repo):
        return f"'{repo}' is not an image repository (lower-case path parts split by '/')"
    if len(repo) > MAX_REPOSITORY:
        return f"the repository name is longer than {MAX_REPOSITORY} characters"
    if not tag:
        return "the tag is empty"
    if not _TAG.match(tag):
        if len(tag) > 128:
            return f"the tag is {len(tag)} characters long; at most 128 are allowed"
        return (
            f"the tag '{tag}' must start with a letter, digit or '_' and hold only those, "
            "'.' and '-'"
        )
    return None


def split_domain(reference: str) -> tuple[str | None, str]:
    """The registry host `reference` names (its first path part, when that holds a '.' or a
    ':' or is `localhost`) and the rest; None and all of it when it names none."""
    first, sep, rest = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, reference


def normalize_reference(reference: str) -> str:
    """`reference` as registries name it: `app:1` and `docker.io/app:1` are
    `docker.io/library/app:1`."""
    domain, remainder = split_domain(reference)
    if domain is None or domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = "library/" + remainder
    return f"{domain}/{remainder}"
