"""`bakegen validate`: check the manifest and its templates; write nothing.

Beyond what a render checks, the bake file the render would write is given to
`docker buildx bake --print` when buildx is installed, from a temporary folder: what only bake
can tell (an expression it cannot evaluate, a function it lacks, an `ssh` agent the
environment does not have) stops validate too, in one line. Without buildx, validate says the
bake file was not checked that way. `render` never runs bake: it stays fast and needs no Docker.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from bakegen.commands.render import targets_line
from bakegen.errors import UsageError
from bakegen.layout import BAKE_FILES
from bakegen.output import Streams
from bakegen.pipeline import Compiled, compile_workspace

BAKE_TIMEOUT = 300  # seconds `docker buildx bake --print` may take
NO_BUILDX = "docker buildx not found: the bake file was not given to `docker buildx bake --print`"


def run(io: Streams, ws: Path, manifest: Path | None, *, max_targets: int | None = None) -> int:
    compiled = compile_workspace(ws, manifest, "hcl", max_targets)
    io.warn(compiled.warnings)
    docker = find_buildx()
    if docker is None:
        io.err.print(f"ok: {targets_line(compiled.plan)}; {NO_BUILDX}")
        return 0
    bake_check(docker, ws, compiled)
    io.err.print(
        f"ok: {targets_line(compiled.plan)}; `docker buildx bake --print` reads the bake file"
    )
    return 0


def find_buildx() -> str | None:
    """The docker command, when it has the buildx plugin; None otherwise."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        probe = subprocess.run(
            [docker, "buildx", "version"], capture_output=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return docker if probe.returncode == 0 else None


def bake_check(docker: str, ws: Path, compiled: Compiled) -> None:
    """`docker buildx bake --print` of every group of the bake file, run in the workspace on a
    copy in a temporary folder; UsageError with bake's own words when it refuses it."""
    name = BAKE_FILES["hcl"]
    groups = [g.name for g in compiled.plan.groups]
    with tempfile.TemporaryDirectory(prefix="bakegen-validate-") as folder:
        copy = Path(folder) / name
        copy.write_text(compiled.outputs[name], encoding="utf-8")
        try:
            proc = subprocess.run(
                [docker, "buildx", "bake", "--progress=quiet", "-f", str(copy), "--print", *groups],
                cwd=ws,
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
                timeout=BAKE_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(
                f"{name}: `docker buildx bake --print` did not finish in {BAKE_TIMEOUT} s"
            ) from None
        except OSError as exc:
            raise UsageError(f"{name}: cannot run docker: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        said = _error_line(proc.stderr).replace(str(copy), name)
        raise UsageError(f"{name}: `docker buildx bake --print` refuses the bake file: {said}")


def _error_line(stderr: str) -> str:
    """bake's reason, from its error output (the last line saying ERROR, or the last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    line = (errors or lines or ["no reason given"])[-1]
    return line.removeprefix("ERROR:").strip()
