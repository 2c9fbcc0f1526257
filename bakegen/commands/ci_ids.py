"""`bakegen ci ids`: the build id of each image on each of its platforms (bakegen.buildid), as a
table or as JSON, for a CI run that skips what it has built before."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from bakegen.buildid import DIGEST, SHORT, build_ids
from bakegen.errors import UsageError
from bakegen.output import Streams, table

COLUMNS = ("target", "platform", "id")


def run(
    io: Streams,
    ws: Path,
    manifest: Path | None,
    targets: Sequence[str] = (),
    platform: str | None = None,
    parent_digest: Sequence[str] = (),
    *,
    as_json: bool = False,
) -> int:
    """The ids of `targets` (default: every image) on their platforms (only `platform`, when
    given), `parent_digest` giving TARGET=sha256:... digests that stand for those parents."""
    digests: dict[str, str] = {}
    for text in parent_digest:
        target, digest = parent_digest_option(text)
        if digests.setdefault(target, digest) != digest:
            raise UsageError(
                f"--parent-digest {text!r}: {target} has the digest {digests[target]} already; "
                "give one digest a target"
            )
    found = build_ids(
        ws, manifest, env=os.environ, targets=targets, platform=platform, parent_digests=digests
    )
    if as_json:
        io.write(json.dumps([b.record() for b in found], indent=2) + "\n")
    else:
        table(io.out, COLUMNS, [(b.target, b.platform, b.id[:SHORT]) for b in found])
    return 0


def parent_digest_option(text: str) -> tuple[str, str]:
    """`TARGET=sha256:...` of `--parent-digest`."""
    target, sep, digest = text.partition("=")
    if not sep or not target or DIGEST.fullmatch(digest) is None:
        raise UsageError(
            f"--parent-digest {text!r}: write TARGET=sha256:DIGEST, the image target built and "
            "the 64 lowercase hex digits of its digest (`docker buildx imagetools inspect`)"
        )
    return target, digest
