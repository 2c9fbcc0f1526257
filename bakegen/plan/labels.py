"""OCI labels of an image."""

from __future__ import annotations

from bakegen.manifest.records import Manifest
from bakegen.manifest.values import Text, Var

OCI = "org.opencontainers.image."


def _labels(m: Manifest) -> tuple[tuple[str, Text], ...]:
    labels: dict[str, Text] = {
        OCI + "version": (Var("VERSION"),),
        OCI + "revision": (Var("REVISION"),),
        OCI + "source": (Var("SOURCE"),),
    }
    for key, value in m.labels:
        labels[key] = (value,)
    return tuple(labels.items())
