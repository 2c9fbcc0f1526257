"""Platforms and CUDA version keys: how the manifest names them and how they are normalized."""

from __future__ import annotations

from bakegen.manifest.values import (
    CudaKey,
    Pairs,
)
from bakegen.schema.document import manifest_schema, regex

# cuDNN is the one component of a CUDA version whose name starts with this.
CUDNN_PREFIX = "cudnn"
# The architectures CUDA images are built for, and the folder of NVIDIA's repositories for each.
CUDA_ARCH = {"amd64": "x86_64", "arm64": "sbsa"}
# The platforms CUDA images are built for.
CUDA_PLATFORMS = tuple(f"linux/{arch}" for arch in CUDA_ARCH)
# Architecture names BuildKit reads as another (containerd's platforms.Normalize).
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
}
# Variants that are an architecture's default, which BuildKit drops.
_DEFAULT_VARIANTS = {("arm64", "v8"), ("arm64", "8"), ("amd64", "v1")}


def normalize_platform(platform: str) -> str:
    """`platform` as BuildKit reads it: `linux/aarch64` and `linux/arm64/v8` are `linux/arm64`."""
    os_name, _, rest = platform.partition("/")
    arch, _, variant = rest.partition("/")
    arch, implied = _ARCH_ALIASES.get(arch, (arch, ""))
    variant = variant or implied
    if variant.isdigit():
        variant = f"v{variant}"
    if (arch, variant) in _DEFAULT_VARIANTS:
        variant = ""
    return "/".join(p for p in (os_name, arch, variant) if p)


def is_platform(text: str) -> bool:
    """Whether `text` is a platform as the manifest (and the lock file) writes one: the
    schema's pattern, the one grammar of both."""
    return regex(manifest_schema()["$defs"]["platform"]["pattern"]).search(text) is not None


def served_platform(os_name: object, arch: object, variant: object) -> str | None:
    """The platform an image's os, architecture and variant name, read as containerd reads
    them (lower case, normalized); None when they name none the manifest could write."""
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        return None
    parts = [os_name, arch, *([variant] if isinstance(variant, str) and variant else [])]
    if any("/" in part for part in parts):
        return None
    platform = normalize_platform("/".join(parts).lower())
    return platform if is_platform(platform) else None


def cuda_key(value: str) -> CudaKey:
    """`cuda_repo_key` read: `./path` is a workspace file, `http(s)://...` a URL, else a name."""
    if value.startswith("./"):
        return CudaKey(file=value[2:])
    if value.startswith(("http://", "https://")):
        return CudaKey(url=value)
    return CudaKey(name=value)


def split_cudnn(components: Pairs) -> tuple[Pairs, tuple[tuple[str, str], ...]]:
    """A CUDA version's components: (the others, the cuDNN ones). The one home of that rule."""
    others = tuple(c for c in components if not c[0].startswith(CUDNN_PREFIX))
    cudnn = tuple(c for c in components if c[0].startswith(CUDNN_PREFIX))
    return others, cudnn
