"""A CUDA version's fields, as tag formats and cuda_requires name them."""

from __future__ import annotations

from bakegen.manifest.records import CudaVersion


def cuda_fields(cuda: CudaVersion) -> dict[str, str]:
    """The fields of a CUDA version that `cuda_requires` (and tag formats) may name."""
    return {"cuda": cuda.version, "cuda_short": cuda.shortened, "cuda_major": cuda.major}


def cuda_requires(text: str, cuda: CudaVersion) -> str:
    """`cuda_requires` for one CUDA version: `cuda>={cuda_short}` is `cuda>=12.6` for 12.6.3."""
    for name, value in cuda_fields(cuda).items():
        text = text.replace("{" + name + "}", value)
    return text
