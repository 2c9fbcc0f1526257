"""The image graph's edges: each image's parent found among the plan's images by its axes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bakegen.errors import KeyPath
from bakegen.manifest.image_keys import Where
from bakegen.plan.records import Image


@dataclass(frozen=True)
class Want:
    """What one image is built FROM: an image of `package` and `release_type` whose axes equal
    the child's, except those `where` names."""

    package: str
    release_type: str
    where: Where
    path: KeyPath


def matches(child: Image, want: Want, candidate: Image) -> bool:
    """Whether `candidate` is the image `want` names for `child`."""
    where = want.where
    distro = where.distro or child.distro
    if candidate.distro != distro:
        return False
    version = where.distro_version or (child.distro_version if distro == child.distro else None)
    if version is not None and candidate.distro_version != version:
        return False
    if candidate.python != (where.python or child.python):
        return False
    if candidate.cuda is None:
        return True
    if where.cuda is not None:
        return where.cuda in (candidate.cuda.version, candidate.cuda.shortened)
    return child.cuda is None or candidate.cuda.version == child.cuda.version


def resolve(images: Iterable[Image], want: Want, child: Image) -> list[Image]:
    """The images of the plan `want` may name for `child` (one when the edge is sound)."""
    return [
        image
        for image in images
        if image.package == want.package
        and image.release_type == want.release_type
        and matches(child, want, image)
    ]


def describe(child: Image, want: Want, found: list[Image]) -> str:
    """Why `child` has no single parent image."""
    axes = f"{child.distro_id}, Python {child.python}"
    if child.cuda:
        axes += f", CUDA {child.cuda.version}"
    what = f"{want.package} {want.release_type}"
    if not found:
        return (
            f"image {child.target} ({axes}) is built FROM {what}, which has no image of those "
            "axes; build it there, or name the parent's axes under `where`"
        )
    names = ", ".join(i.target for i in found)
    return (
        f"image {child.target} is built FROM {what}, which has {len(found)} images that fit "
        f"({names}); name the one under `where` (distro_version, python or cuda)"
    )
