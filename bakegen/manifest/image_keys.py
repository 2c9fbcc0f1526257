"""The keys that place an image in the graph: which images a selector names (`Where`), what
an image is built FROM (`ParentRef`), the platforms a key narrows it to (`Narrowed`) and how a
variant's tags differ from its package's (`Tagging`)."""

from __future__ import annotations

from dataclasses import dataclass

from bakegen.errors import KeyPath


@dataclass(frozen=True)
class Where:
    """Which images something applies to: every field given must match."""

    package: str | None = None
    release_type: str | None = None
    distro: str | None = None
    distro_version: str | None = None
    python: str | None = None
    cuda: str | None = None  # X.Y or X.Y.Z
    variant: str | None = None  # a variant's name; "" for the package's own images


@dataclass(frozen=True)
class ParentRef:
    """What a package's images are built FROM: the images of another package (or variant) of
    `release_type` (None: each image's own), the one with the same distro release, Python and
    (when it has one) CUDA version as each image, except for the axes `where` names."""

    package: str
    release_type: str | None
    where: Where
    path: KeyPath


@dataclass(frozen=True)
class Narrowed:
    """A list of platforms that narrows an image's (None: it does not), and where it is set."""

    platforms: tuple[str, ...] | None = None
    path: KeyPath = ()


@dataclass(frozen=True)
class Tagging:
    """How a variant's tags differ from its package's: text before and after each tag, and the
    name its registries' repositories are looked up by (the package's own by default)."""

    prefix: str = ""
    suffix: str = ""
    repository: str | None = None
