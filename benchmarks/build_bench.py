"""The two ways of building that build.py times: a `docker build` per Dockerfile, parents first,
as manager.py did, and one `docker buildx bake`; on a copy of the root example workspace."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from build_steps import (
    TEMPLATE_LINE,
    Result,
    Steps,
    instructions,
    only,
    pattern,
    short,
    step_counts,
)

ROOT = Path(__file__).resolve().parent.parent


ENGINE_SH = ROOT / "scripts" / "engine.sh"


LEAF_TEMPLATE = "templates/debian/devel.Dockerfile.j2"


BASE_TEMPLATE = "templates/debian/base.Dockerfile.j2"


EDITS = {"edit devel": LEAF_TEMPLATE, "edit base": BASE_TEMPLATE}


SCENARIOS = ["cold", "warm", *EDITS]


LOCAL_REPO = "bakegen-bench"


ENV = {"VERSION": "bench", "HUB_PASSWORD": "x"}


TIMEOUT = 1800


@dataclass(frozen=True)
class Workload:
    description: str
    targets: list[str]  # bake targets or groups
    platform: str | None  # forced on every target with --set, or None: the bake file's platforms
    narrow: Callable[[Path], None] | None = None  # rewrites the copied manifest


def narrow_wide(ws: Path) -> None:
    """Keep Debian 12, Python 3.11 and the Debian images of each package, on amd64 and arm64."""
    path = ws / "manifest" / "manifest.yml"
    manifest = yaml.safe_load(path.read_text())
    release = manifest["releases"]["debian"]["12"]
    release["python_versions"] = ["3.11"]
    release["platforms"] = ["linux/amd64", "linux/arm64"]
    manifest["releases"] = {"debian": {"12": release}}
    manifest["python_versions"] = ["3.11"]

    def flat(items: Any) -> list[Any]:
        if isinstance(items, list):
            return [leaf for item in items for leaf in flat(item)]
        return [items]

    for spec in manifest["packages"].values():
        for key in list(spec):
            if key == "python_versions":
                spec[key] = ["3.11"]
            elif "debian" in flat(spec[key]):
                spec[key] = ["debian"]
            else:
                del spec[key]
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))


WORKLOADS = {
    "wide": Workload(
        "every bookworm image of both packages for Python 3.11 (model-server base/runtime/devel, "
        "yatai-service base/runtime), linux/amd64 + linux/arm64 (QEMU)",
        ["default"],
        None,
        narrow_wide,
    ),
    "small": Workload(
        "model-server's bookworm runtime and devel images for Python 3.11 and their base, "
        "linux/amd64",
        ["model-server-runtime-debian12-py311", "model-server-devel-debian12-py311"],
        "linux/amd64",
    ),
}


def sh(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run a command; on failure, exit with its output. Returns stderr (where progress goes)."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stderr


def engine_env() -> dict[str, str]:
    env = {**os.environ, **ENV}
    env.pop("GHCR_TOKEN", None)
    if not env.get("DOCKER_HOST"):
        state = Path(os.environ.get("BAKEGEN_ENGINE_STATE", "/tmp/bakegen-engine"))
        if (state / "docker.sock").is_socket():
            env["DOCKER_HOST"] = f"unix://{state / 'docker.sock'}"
    probe = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        sys.exit(
            f'no Docker engine: start one with: eval "$(scripts/engine.sh start)"\n{probe.stderr}'
        )
    return env


def parent(spec: dict[str, Any]) -> str | None:
    for ref in (spec.get("contexts") or {}).values():
        if ref.startswith("target:"):
            return str(ref.removeprefix("target:"))
    return None


def parent_first(targets: dict[str, Any]) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for ref in (targets[name].get("contexts") or {}).values():
            if ref.startswith("target:"):
                visit(ref.removeprefix("target:"))
        order.append(name)

    for name in sorted(targets):
        visit(name)
    return order


class Bench:
    def __init__(self, ws: Path, env: dict[str, str], workload: Workload) -> None:
        self.ws, self.env, self.workload = ws, env, workload
        self.printed: dict[str, Any] = {}
        self.order: list[str] = []
        self.instructions: dict[str, list[str]] = {}
        self.patterns: dict[str, list[re.Pattern[str]]] = {}
        self.same_as: dict[str, str] = {}
        self.templates: dict[str, str] = {}
        self.host_file = ws / "host-network.json"
        self.refresh()

    def refresh(self) -> None:
        """Render, then read the resolved targets and write the host-network bake file."""
        sh([sys.executable, "-m", "bakegen", "render", "-C", str(self.ws)], self.env)
        proc = subprocess.run(
            ["docker", "buildx", "bake", "--print", *self.platform_set(), *self.workload.targets],
            cwd=self.ws,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        self.printed = json.loads(proc.stdout)["target"]
        self.order = parent_first(self.printed)
        subprocess.run(
            [str(ENGINE_SH), "host-network", str(self.host_file)],
            input=proc.stdout,
            capture_output=True,
            text=True,
            check=True,
        )
        keys: dict[str, Any] = {}
        self.same_as = {}
        for name in self.order:
            spec = self.printed[name]
            text = (self.ws / spec["dockerfile"]).read_text()
            self.instructions[name] = [
                i for i in instructions(text) if not i.upper().startswith("LABEL ")
            ]
            self.patterns[name] = [pattern(i) for i in self.instructions[name]]
            for line in text.splitlines():
                if match := TEMPLATE_LINE.match(line):
                    self.templates[name] = match["path"]
            up = parent(spec)
            key = (
                tuple(self.instructions[name]),
                keys.get(up) if up else None,
                tuple(sorted((spec.get("args") or {}).items())),
                tuple(self.platforms(name)),
            )
            keys[name] = key
            self.same_as[name] = next(n for n in self.order if keys.get(n) == key)

    def platform_set(self) -> list[str]:
        return ["--set", f"*.platform={self.workload.platform}"] if self.workload.platform else []

    def platforms(self, name: str) -> list[str]:
        return list(self.printed[name].get("platforms") or ["linux/amd64"])

    def multi_platform(self) -> bool:
        return any(len(self.platforms(name)) > 1 for name in self.printed)

    def chain(self, name: str) -> list[str]:
        """The target and its ancestors, root first."""
        out = [name]
        while (up := parent(self.printed[out[0]])) is not None:
            out.insert(0, up)
        return out

    def bake_owner(self, named: str | None, text: str) -> str:
        chain = self.chain(named) if named in self.printed else self.order
        owner = next(
            (n for n in chain if any(p.fullmatch(text) for p in self.patterns[n])), named or "?"
        )
        return self.same_as.get(owner, owner)

    def tag(self, name: str) -> str:
        tags = self.printed[name].get("tags") or []
        return str(tags[0]) if tags else f"{LOCAL_REPO}/{name}:latest"

    def old_tag(self, name: str, plat: str) -> str:
        """The tag the old way gives a target's image: one per platform when there are several."""
        if not self.multi_platform():
            return self.tag(name)
        return f"{LOCAL_REPO}/{name}:{plat.replace('/', '-')}"

    def images(self) -> list[str]:
        return sorted(
            {t for spec in self.printed.values() for t in spec.get("tags") or []}
            | {f"{LOCAL_REPO}/{name}:latest" for name in self.printed}
            | {self.old_tag(n, p) for n in self.printed for p in self.platforms(n)}
        )

    def allow_fs(self) -> list[str]:
        dirs = set()
        for spec in self.printed.values():
            for secret in spec.get("secret") or []:
                if isinstance(secret, dict) and secret.get("src"):
                    dirs.add(str(Path(secret["src"]).parent))
        return [f"--allow=fs.read={d}" for d in sorted(dirs)]

    def reset(self) -> None:
        """Cold: no build cache, none of the images (nor untagged results)."""
        subprocess.run(
            ["docker", "image", "rm", "--force", *self.images()],
            env=self.env,
            capture_output=True,
            check=False,
        )
        sh(["docker", "image", "prune", "--force"], self.env)
        sh(["docker", "builder", "prune", "--all", "--force"], self.env)

    def old(self) -> Result:
        result = Result(0.0, os.getloadavg()[0])
        start = time.perf_counter()
        for name in self.order:
            spec = self.printed[name]
            for plat in self.platforms(name):
                cmd = ["docker", "build", "--progress=rawjson", "--network=host"]
                cmd += ["--platform", plat]
                cmd += ["-f", str(self.ws / spec["dockerfile"]), "-t", self.old_tag(name, plat)]
                for key, value in sorted((spec.get("args") or {}).items()):
                    cmd += ["--build-arg", f"{key}={value}"]
                for key, value in sorted((spec.get("labels") or {}).items()):
                    cmd += ["--label", f"{key}={value}"]
                for ctx, ref in sorted((spec.get("contexts") or {}).items()):
                    up = ref.removeprefix("target:")
                    source = f"docker-image://{self.old_tag(up, plat)}" if up != ref else ref
                    cmd += ["--build-context", f"{ctx}={source}"]
                for secret in spec.get("secret") or []:
                    text = secret
                    if isinstance(secret, dict):
                        text = ",".join(f"{k}={v}" for k, v in secret.items())
                    cmd += ["--secret", str(text)]
                cmd.append(str(self.ws / spec.get("context", ".")))
                began = time.perf_counter()
                progress = sh(cmd, self.env, cwd=self.ws)
                result.builds[(name, plat)] = time.perf_counter() - began
                for target, steps in step_counts(progress, only(name)).items():
                    total = result.steps.setdefault(target, Steps())
                    total.executed += steps.executed
                    total.cached += steps.cached
        result.seconds = time.perf_counter() - start
        return result

    def bake(self) -> Result:
        cmd = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", str(self.host_file)]
        cmd += ["--allow=network.host", *self.allow_fs(), "--progress=rawjson", "--load"]
        cmd += [*self.platform_set(), *self.workload.targets]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        progress = sh(cmd, self.env, cwd=self.ws)
        seconds = time.perf_counter() - start
        return Result(seconds, load, step_counts(progress, self.bake_owner))

    def critical(self, result: Result) -> tuple[float, str]:
        """The old way's longest parent chain of builds (seconds, description): no build order,
        however parallel, can finish before it."""
        best = (0.0, "")
        for name in self.order:
            for plat in self.platforms(name):
                chain = self.chain(name)
                seconds = sum(result.builds.get((n, plat), 0.0) for n in chain)
                best = max(best, (seconds, f"{' -> '.join(map(short, chain))} on {plat}"))
        return best

    def fed_by(self, template: str) -> set[str]:
        """Targets rendered from `template`, and everything built on them."""
        return {
            name
            for name in self.printed
            if any(self.templates.get(n) == template for n in self.chain(name))
        }


def edit_templates(ws: Path, originals: dict[str, str], edited: str | None, stamp: str) -> None:
    """Every template back to its original, then one line appended to `edited` (if any)."""
    for rel, text in originals.items():
        extra = f'RUN echo "{stamp}" > /etc/bakegen-bench-edit\n' if rel == edited else ""
        (ws / rel).write_text(text + extra)
