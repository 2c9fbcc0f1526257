"""What `bakegen explain` says of tag variables, gated tags and CUDA checks."""

from __future__ import annotations

from bakegen.errors import KeyPath
from bakegen.manifest.records import DistroRelease, Manifest
from bakegen.manifest.tag_variables import TagVariable
from bakegen.plan.args import VERIFY_CUDA_ENV
from bakegen.plan.records import Image, Tag


def when_given(tag: Tag) -> str:
    """When bake gives `tag`, as a note after it (empty: always)."""
    if tag.fallback:
        needs = f", when {_and(tag.needs)} {_be(tag.needs)} set" if tag.needs else ""
        return f" (while every registry is gated off{needs})"
    return f" (when {_and(tag.conditions)} {_be(tag.conditions)} set)" if tag.conditions else ""


def _and(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _be(names: tuple[str, ...]) -> str:
    return "is" if len(names) == 1 else "are"


def tag_variable_text(variable: TagVariable) -> str:
    """A tag variable's default, CI source and description, on one line."""
    text = f"default {variable.default!r}"
    if variable.ci:
        text += f", set by the workflow to the {variable.ci}"
    return text + (f": {variable.description}" if variable.description else "")


def cuda_check_row(
    m: Manifest, image: Image, release: DistroRelease
) -> tuple[str, str, KeyPath] | None:
    """The image's CUDA check when it is not the verify Dockerfile's own (CUDA_VERSION)."""
    cuda = image.cuda
    if cuda is None or cuda.check.env == VERIFY_CUDA_ENV:
        return None
    package = m.packages[image.package]
    path = (*(package.path if package.cuda_check else release.path), "cuda_check")
    shown = f"env {cuda.check.env}" if cuda.check.env else f"run {cuda.check.run}"
    return ("cuda check", shown, path)
