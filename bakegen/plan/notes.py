"""What a render says beside its counts: images a manifest's own lists left out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bakegen.errors import Problem
from bakegen.manifest.records import Manifest
from bakegen.plan.cells import _Cell


def dropped_notes(m: Manifest, cells: Iterable[_Cell]) -> Iterator[Problem]:
    """A note for each package's release type on a distro release that its Python lists
    leave without a version (where the distro was listed whole: naming the version is an
    error, `checks`)."""
    seen: set[tuple[str, str, str]] = set()
    for cell in cells:
        key = (cell.package.name, cell.chain[0], cell.release.distro_id)
        if cell.level or cell.pythons or key in seen:
            continue
        seen.add(key)
        build = cell.package.build(cell.chain[0])
        if build is None:
            continue
        yield m.problem(
            build.path,
            f"note: no {cell.chain[0]} image of {cell.package.name} on "
            f"{cell.release.distro_id}: no Python version is left for it there",
        )
