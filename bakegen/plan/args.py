"""The build arguments `args` gives one image, and the CUDA check of its verify target."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from bakegen.errors import KeyPath
from bakegen.manifest.args import ArgRule
from bakegen.manifest.cuda_install import CudaCheck
from bakegen.manifest.image_keys import Where
from bakegen.manifest.records import Manifest
from bakegen.plan.records import Cuda, DeclaredTest

# The environment variable the verify Dockerfile compares with EXPECT_CUDA itself.
VERIFY_CUDA_ENV = "CUDA_VERSION"
# The name of the test a verify target runs for a `cuda_check` the Dockerfile does not read.
CUDA_CHECK_TEST = "cuda_check"


def rules_of(m: Manifest, package: str) -> tuple[ArgRule, ...]:
    """The `args` entries of `package`'s images, in the order they apply (later wins)."""
    return (*m.args, *m.packages[package].args)


def image_args(
    m: Manifest, package: str, matches: Callable[[Where], bool]
) -> tuple[tuple[str, str, KeyPath], ...]:
    """Each build argument `args` gives the image that `matches` tells: name, value and where
    the winning value is written; sorted by name."""
    found: dict[str, tuple[str, KeyPath]] = {}
    for rule in rules_of(m, package):
        if matches(rule.where):
            found.update(
                {name: (value, (*rule.path, "values", name)) for name, value in rule.values}
            )
    return tuple((name, *found[name]) for name in sorted(found))


def cuda_check_of(m: Manifest, package: str, declared: CudaCheck) -> CudaCheck:
    """The CUDA check of `package`'s images on a distro release declaring `declared`."""
    return m.packages[package].cuda_check or declared


def expected_cuda(cuda: Cuda | None) -> str:
    """EXPECT_CUDA of a verify target: the version, when the Dockerfile itself checks it."""
    return cuda.version if cuda and cuda.check.env == VERIFY_CUDA_ENV else ""


def cuda_check_tests(cuda: Cuda | None) -> tuple[DeclaredTest, ...]:
    """The test checking the CUDA version in a way the verify Dockerfile does not itself: the
    variable `env` holds the version, or the command `run` prints it (X.Y.Z or X.Y)."""
    if cuda is None or expected_cuda(cuda) or not (cuda.check.env or cuda.check.run):
        return ()
    want, short = shlex.quote(cuda.version), shlex.quote(cuda.shortened)
    # no `${`: bake would read it as an interpolation
    if cuda.check.env:
        found, accepted = f'"${cuda.check.env}"', want
    else:
        found, accepted = f'"$(sh -c {shlex.quote(cuda.check.run or "")})"', f"{want}|{short}"
    script = (
        f"found={found}; "
        f'case "$found" in {accepted}) ;; '
        f"*) echo \"verify: CUDA '$found', expected {cuda.version}\" >&2; exit 1 ;; esac"
    )
    return (DeclaredTest(CUDA_CHECK_TEST, script),)
