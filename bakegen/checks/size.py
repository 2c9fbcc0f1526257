"""The size check: a manifest that would expand past the target limit is refused before expansion."""

from __future__ import annotations

from bakegen.errors import ManifestError
from bakegen.manifest.records import Manifest
from bakegen.plan.cells import _Cell


def _check_size(m: Manifest, cells: list[_Cell], max_targets: int | None) -> None:
    """Refuse a matrix past the target limit before any image is built in memory."""
    limit = max_targets if max_targets is not None else m.max_targets
    seen: set[tuple[str, ...]] = set()
    count = 0
    for cell in cells:
        cuda = cell.cuda.version if cell.cuda else ""
        for python in cell.pythons:
            key = (cell.package.name, cell.release_type, cell.release.distro_id, python, cuda)
            if key not in seen:
                seen.add(key)
                pushed = m.release_types[cell.release_type].push
                count += 2 if pushed and m.verify else 1
    if count > limit:
        raise ManifestError(
            [
                m.problem(
                    ("packages",),
                    f"expands to {count} bake targets (with verify checks), more than the limit "
                    f"of {limit}; narrow the matrix, or raise it with `max_targets` or --max-targets",
                )
            ]
        )
