"""Tags published beside the ones bake gives: `tags_from_image` (a tag whose text a command run
in the built image prints) and `platform_tags` (each tag once more per platform, naming that
platform's image only). A release type and a package (or variant) may set either; the
package's key wins over its release type's, a variant's over its package's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bakegen.errors import KeyPath
from bakegen.manifest.image_keys import Where
from bakegen.manifest.platforms import normalize_platform

# The field of a `tags_from_image` tag standing for what its command prints.
OUTPUT_FIELD = "output"
# The one field of a `platform_tags` template: each tag of the image.
TAG_FIELD = "tag"
IMAGE_TAG_KEYS = ("tags_from_image", "platform_tags")


@dataclass(frozen=True)
class FromImage:
    """An entry of `tags_from_image`: a tag format holding `{output}`, the command whose
    output it is, and the images it is for (every key of `where` given must match)."""

    tag: str
    run: str
    where: Where
    path: KeyPath


@dataclass(frozen=True)
class PlatformTag:
    """An entry of `platform_tags`: a platform (normalized; `path` ends in the key as written)
    and the template of its tags, holding `{tag}`."""

    platform: str
    template: str
    path: KeyPath


@dataclass(frozen=True)
class ImageTagKeys:
    """`tags_from_image` and `platform_tags` of a release type or package: None where the key
    is not given (an empty list or mapping is given: it turns its release type's off)."""

    from_image: tuple[FromImage, ...] | None = None
    platform: tuple[PlatformTag, ...] | None = None

    def over(self, under: ImageTagKeys) -> ImageTagKeys:
        """These keys, each taken from `under` where not given here."""
        return ImageTagKeys(
            self.from_image if self.from_image is not None else under.from_image,
            self.platform if self.platform is not None else under.platform,
        )


def image_tag_keys(
    spec: Mapping[str, Any], path: KeyPath, where_of: Callable[[Mapping[str, Any]], Where]
) -> ImageTagKeys:
    """The two keys of a release type's or package's spec at `path`."""
    entries = spec.get("tags_from_image")
    platforms = spec.get("platform_tags")
    return ImageTagKeys(
        None
        if entries is None
        else tuple(
            FromImage(
                str(e["tag"]),
                str(e["run"]),
                where_of(e.get("where") or {}),
                (*path, "tags_from_image", i),
            )
            for i, e in enumerate(entries)
        ),
        None
        if platforms is None
        else tuple(
            PlatformTag(normalize_platform(str(p)), str(t), (*path, "platform_tags", str(p)))
            for p, t in platforms.items()
        ),
    )
