"""The judge of `bakegen affected`, by brute force and real tools.

It checks REF out with git (a worktree, submodules updated as a checkout does), renders both
revisions on disk with bakegen, reads every target's entry with real `docker buildx bake
--print` (with the registries' gates closed, all open and each open alone), and digests every
file each target's build can read: the Dockerfile, the sources of its COPY and ADD instructions
(parsed with BuildKit's own parser, ARGs expanded) from the build context or from a named
folder context (`--from=`), less what the context's .dockerignore leaves out (asked of git's
own matcher, the patterns anchored at the root as BuildKit anchors them). A source whose
variables it cannot expand reads the whole context (its `.git` aside). A target whose digest
differs is affected, and so is every target built FROM one (`target:` contexts).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from glob import glob
from pathlib import Path
from typing import Any

import dockerfile
import yaml

from testing.helpers import ROOT, bake_print, git, run_cli

_counter = itertools.count()


def example_repo(tmp: Path, workspace: str = "") -> Path:
    """The example workspace (manifest, templates, its docker-bake.hcl.j2) committed in a new
    repository, at its top or in the folder `workspace`."""
    repo = tmp / "repo"
    ws = repo / workspace
    ws.mkdir(parents=True)
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, ws / name)
    shutil.copy(ROOT / "docker-bake.hcl.j2", ws / "docker-bake.hcl.j2")
    (ws / "README.md").write_text("images\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def checkout(repo: Path, ref: str, dest: Path) -> None:
    """`ref` of `repo` checked out at `dest`, its submodules too."""
    git(repo, "worktree", "add", "-q", "--detach", str(dest), ref)
    if (dest / ".gitmodules").exists():
        git(dest, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init")


def gates_of(manifest: Path) -> set[str]:
    files = sorted(manifest.glob("*.y*ml")) if manifest.is_dir() else [manifest]
    gates: set[str] = set()
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for registry in (data.get("repository") or {}).values():
            if registry.get("only_if"):
                gates.add(registry["only_if"])
    return gates


def judge(repo: Path, ref: str, workspace: str = "", manifest: str = "manifest") -> set[str]:
    """The targets a change of `repo`'s working tree since `ref` affects; `workspace` and
    `manifest` are relative to the repository's top."""
    old = repo.parent / f"judge-{next(_counter)}"
    checkout(repo, ref, old)
    try:
        gates = gates_of(old / manifest) | gates_of(repo / manifest)
        before = side(old / workspace, old / manifest, gates)
        now = side(repo / workspace, repo / manifest, gates)
    finally:
        git(repo, "worktree", "remove", "--force", str(old))
    changed = {t for t, (d, _) in now.items() if before.get(t, ("", ()))[0] != d}
    grew = True
    while grew:
        grew = False
        for name, (_, parents) in now.items():
            if name not in changed and any(p in changed for p in parents):
                changed.add(name)
                grew = True
    return changed


def side(ws: Path, manifest: Path, gates: set[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """target -> (digest of everything it is built from, its target: parents)."""
    rendered = run_cli("-m", str(manifest), "render", cwd=ws)
    assert rendered.code == 0, rendered.err
    envs = [{}, dict.fromkeys(gates, "on"), *({g: "on"} for g in sorted(gates))]
    prints = [bake_print(ws, "default", "verify", env=env)["target"] for env in envs]
    out = {}
    for name, entry in prints[0].items():
        digest = hashlib.sha256(json.dumps([p[name] for p in prints], sort_keys=True).encode())
        for label, data in sorted(files_read(ws, entry)):
            digest.update(f"{label}\0".encode() + data)
        parents = tuple(
            v.removeprefix("target:")
            for v in (entry.get("contexts") or {}).values()
            if v.startswith("target:")
        )
        out[name] = (digest.hexdigest(), parents)
    shutil.rmtree(ws / "generated")
    return out


def files_read(ws: Path, entry: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """(what, bytes) of the Dockerfile and of every file its COPY and ADD read."""
    context = ws / entry.get("context", ".")
    text = entry.get("dockerfile-inline") or (context / entry["dockerfile"]).read_text("utf-8")
    yield "dockerfile", text.encode()
    named = {
        k: ws / v
        for k, v in (entry.get("contexts") or {}).items()
        if not v.startswith("target:") and "://" not in v
    }
    args = entry.get("args") or {}
    variables: dict[str, str] = {}
    for command in dockerfile.parse_string(text):
        keyword = command.cmd.upper()
        if keyword == "FROM":
            variables = {}
        elif keyword == "ARG":
            for word in command.value:
                name, sep, default = word.partition("=")
                if name in args or sep:
                    variables[name] = args.get(name, default)
        elif keyword in ("COPY", "ADD"):
            yield from _sources(command, context, named, variables)


def _sources(
    command: Any, context: Path, named: dict[str, Path], variables: dict[str, str]
) -> Iterator[tuple[str, bytes]]:
    origin = [f.removeprefix("--from=") for f in command.flags if f.startswith("--from=")]
    root, label = context, ""
    if origin:
        if origin[0] not in named:
            return  # a stage, an image, a parent target
        root, label = named[origin[0]], f"{origin[0]}:"
    for source in command.value[:-1]:
        path = _expand(source, variables)
        found = (
            [root]
            if path is None
            else [Path(m) for m in sorted(glob(str(root / path.lstrip("/")), include_hidden=True))]
        )
        files = [f for m in found for f in _files(m, whole=path is None)]
        left_out = ignored(root, [f.relative_to(root).as_posix() for f in files])
        for file in files:
            rel = file.relative_to(root).as_posix()
            if rel not in left_out:
                x = "x" if os.access(file, os.X_OK) and not file.is_symlink() else "-"
                content = os.readlink(file).encode() if file.is_symlink() else file.read_bytes()
                yield f"{label}{rel} {x}", content


def _expand(word: str, variables: dict[str, str]) -> str | None:
    unknown = False

    def value(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(2)
        if name not in variables:
            unknown = True
        return variables.get(name, "")

    expanded = re.sub(r"\$\{(\w+)\}|\$(\w+)", value, word)
    return None if unknown else expanded


def _files(path: Path, *, whole: bool) -> list[Path]:
    if not path.is_dir() or path.is_symlink():
        return [path] if path.exists() or path.is_symlink() else []
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        if whole:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        out += [Path(dirpath) / f for f in filenames if not (whole and f == ".git")]
        out += [Path(dirpath) / d for d in dirnames if (Path(dirpath) / d).is_symlink()]
    return out


def ignored(root: Path, rels: list[str]) -> set[str]:
    """Which of `rels` the .dockerignore at `root` leaves out, as git's matcher says with its
    patterns anchored at the root (a path is out when it or a folder above it is)."""
    source = root / ".dockerignore"
    if not source.is_file() or not rels:
        return set()
    lines = []
    for raw in source.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            lines.append(("!" if negated else "") + "/" + line.lstrip("!").lstrip("/"))
    with tempfile.TemporaryDirectory() as tmp:
        git(Path(tmp), "init", "-q")
        (Path(tmp) / "exclude").write_text("\n".join(lines) + "\n", encoding="utf-8")
        prefixes = sorted(
            {"/".join(r.split("/")[: i + 1]) for r in rels for i in range(r.count("/") + 1)}
        )
        proc = subprocess.run(
            [
                "git",
                "-c",
                f"core.excludesFile={tmp}/exclude",
                "check-ignore",
                "--no-index",
                "-v",
                "-n",
                "-z",
                "--stdin",
            ],
            cwd=tmp,
            input="\0".join(prefixes) + "\0",
            capture_output=True,
            text=True,
            check=False,
        )
    fields = proc.stdout.split("\0")
    out = set()
    for i in range(0, len(fields) - 3, 4):
        src, _, pattern, path = fields[i : i + 4]
        if src and not pattern.startswith("!"):
            out.add(path)
    return {r for r in rels if any(p in out for p in _prefixes(r))}


def _prefixes(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
