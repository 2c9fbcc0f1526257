"""A CUDA version's fields, as tag formats and cuda_requires name them."""

from __future__ import annotations

from bakegen.manifest.records import CudaVersion
from bakegen.plan.records import Cuda

# The fields of a CUDA version that `cuda_requires` and tag formats may name, and the attribute
# each one is (of the manifest's CudaVersion and the plan's Cuda alike).
CUDA_FIELDS = {"cuda": "version", "cuda_short": "shortened", "cuda_major": "major"}


def cuda_fields(cuda: CudaVersion | Cuda) -> dict[str, str]:
    """The values of `CUDA_FIELDS` for one CUDA version."""
    return {name: str(getattr(cuda, attribute)) for name, attribute in CUDA_FIELDS.items()}


def cuda_requires(text: str, cuda: CudaVersion) -> str:
    """`cuda_requires` for one CUDA version: `cuda>={cuda_short}` is `cuda>=12.6` for 12.6.3."""
    for name, value in cuda_fields(cuda).items():
        text = text.replace("{" + name + "}", value)
    return text
