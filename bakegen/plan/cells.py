"""The matrix's cells: one per package, release type, distro release and CUDA version, before
Python versions multiply them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bakegen.manifest.cuda_install import REPOSITORY
from bakegen.manifest.records import CudaVersion, DistroRelease, Manifest, Package
from bakegen.plan.args import cuda_check_of
from bakegen.plan.cuda import cuda_requires
from bakegen.plan.records import Cuda


@dataclass(frozen=True)
class _Cell:
    """One Dockerfile's worth of the matrix: a package's release type (and CUDA) on a release."""

    package: Package
    chain: tuple[str, ...]
    level: int
    release_type: str
    release: DistroRelease
    cuda: Cuda | None
    cudas: tuple[Cuda, ...]
    pythons: tuple[str, ...]


def _cells(m: Manifest) -> Iterator[_Cell]:
    for package in m.packages.values():
        for build in package.builds:
            rt = m.release_types[build.release_type]
            chain = (rt.name,) if package.parent else rt.lineage
            for release in m.build_releases(build):
                cudas = tuple(_cuda(m, c, release, package.name) for c in release.cudas)
                pythons = m.pythons(package.name, release, rt.name)
                for level, kind in enumerate(chain):
                    for cuda in cudas if m.release_types[kind].needs_cuda else (None,):
                        yield _Cell(package, chain, level, kind, release, cuda, cudas, pythons)


def _cuda(m: Manifest, cuda: CudaVersion, release: DistroRelease, package: str) -> Cuda:
    return Cuda(
        version=cuda.version,
        major=cuda.major,
        minor=cuda.minor,
        shortened=cuda.shortened,
        components=cuda.components,
        cudnn=cuda.cudnn,
        requires=cuda_requires(release.cuda_requires, cuda),
        prefix_url=release.cuda_prefix_url,
        repo_url=f"{release.cuda_repo_url}/{release.cuda_prefix_url}"
        if release.cuda_install == REPOSITORY
        else "",
        key=m.cuda_repo_key,
        install=release.cuda_install,
        check=cuda_check_of(m, package, release.cuda_check),
    )
