"""How a distro release's images get CUDA (`cuda_install`), and how their verify check reads
the CUDA version an image holds (`cuda_check`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# `cuda_install`: NVIDIA's packages from the CUDA repository (cuda_repo_url + cuda_prefix_url),
# at the versions of `cuda_dependencies`; or whatever the template does (pip wheels, a tarball).
REPOSITORY = "repository"
TEMPLATE = "template"


@dataclass(frozen=True)
class CudaCheck:
    """How a verify check reads an image's CUDA version: an environment variable holding it
    (X.Y.Z), or a command printing it (X.Y.Z or X.Y)."""

    env: str | None = None
    run: str | None = None


# A check that reads nothing: the value of records built without one.
NO_CHECK = CudaCheck()


def cuda_check(spec: Any) -> CudaCheck | None:
    """A `cuda_check` mapping as a record; None when it is not given."""
    if not isinstance(spec, Mapping) or not spec:
        return None
    env, run = spec.get("env"), spec.get("run")
    return CudaCheck(env=str(env) if env else None, run=str(run) if run else None)
