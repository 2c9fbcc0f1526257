"""git's side of `affected`: the repository holding the workspace, the commit a revision names,
and that commit's files written into a folder from git's objects (never a checkout over the
working tree).

The files are read as a checkout would write them (git's filters applied: line endings, LFS),
symlinks as symlinks (one leaving the repository points where it points from the working
tree's repository), and submodules at the commit the revision records, from the submodule's
own repository. A submodule that cannot be read there is a trouble to tell, not an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bakegen.errors import UsageError

GET_GIT = "install git (e.g. `apt-get install git`) or put it on PATH, and run again"
GIT_MISSING = (
    f"git not found: `bakegen affected` reads the revision to compare with from git; {GET_GIT}"
)
_BLOB_MODES = {"100644": 0o644, "100755": 0o755, "100664": 0o644}
_LINK_MODE = "120000"
_SUBMODULE_MODE = "160000"


@dataclass(frozen=True)
class Repository:
    top: Path  # the working tree's top folder
    prefix: str  # the workspace's folder in it, '' at the top


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    oid: str
    path: str


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("git") is None:
        raise UsageError(GIT_MISSING)
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False)
    except OSError as exc:
        raise UsageError(f"git cannot be run ({exc.strerror}); {GET_GIT}") from None


def _said(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].removeprefix("fatal: ") if lines else f"exit {proc.returncode}"


def repository(workspace: Path) -> Repository:
    """The git repository whose working tree holds `workspace`; a one-line error naming why
    when there is none."""
    proc = _git(workspace, "rev-parse", "--show-toplevel", "--show-prefix")
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or not lines or not lines[0]:
        said = _said(proc)
        if "not a git repository" in said:
            raise UsageError(
                f"{workspace}: no git repository here (nor in a folder above it); `bakegen "
                "affected` compares the working tree with a git revision: run it in a clone, "
                "or `git init` and commit first"
            )
        raise UsageError(f"{workspace}: git cannot read the repository here: {said}")
    prefix = lines[1].rstrip("/") if len(lines) > 1 else ""
    return Repository(Path(lines[0]), prefix)


def commit_of(repo: Repository, ref: str) -> str:
    """The commit `ref` names in the repository; a one-line error when it names none."""
    if ref.startswith("-"):
        raise UsageError(f"'{ref}' is no commit: a revision does not start with '-'")
    proc = _git(repo.top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    if _git(repo.top, "rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
        raise UsageError(
            f"'{ref}' is no commit: the git repository at {repo.top} has no commits yet"
        )
    raise UsageError(
        f"'{ref}' is no commit of the git repository at {repo.top} (a branch of another "
        "repository is fetched first, e.g. `git fetch origin main`)"
    )


def tree_entries(listing: bytes) -> list[TreeEntry]:
    """The entries of `git ls-tree -r -z` output."""
    out = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        head, _, path = record.partition(b"\t")
        mode, _, oid = head.decode().split(" ")
        out.append(TreeEntry(mode, oid, os.fsdecode(path)))
    return out


def link_target(top: Path, path: str, text: str) -> str:
    """What a symlink at `path` (in the tree) reading `text` should point to in a copy of the
    tree: the same when it stays inside, else where it points from the repository at `top`."""
    if os.path.isabs(text):
        return text
    inside = os.path.normpath(os.path.join(os.path.dirname(path), text))
    if inside == ".." or inside.startswith("../"):
        return os.path.normpath(os.path.join(top, os.path.dirname(path), text))
    return text


def extract(top: Path, commit: str, dest: Path) -> list[str]:
    """Write the files of `commit` (of the repository at `top`) under `dest`; the troubles met
    (submodules that could not be read), one line each."""
    listing = _git(top, "ls-tree", "-r", "-z", "--full-tree", commit)
    if listing.returncode != 0:
        raise UsageError(f"git ls-tree {commit}: {_said(listing)}")
    entries = [e for e in tree_entries(listing.stdout) if _safe(e.path)]
    blobs = [e for e in entries if e.mode in _BLOB_MODES]
    try:
        _write_blobs(top, commit, blobs, dest, filters=True)
    except _BatchFailed:  # a filter git cannot run here (LFS not installed): the stored bytes
        _write_blobs(top, commit, blobs, dest, filters=False)
    links = [e for e in entries if e.mode == _LINK_MODE]
    for entry, (_, text) in zip(
        links, _batch(top, [e.oid for e in links], filters=False), strict=True
    ):
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link_target(top, entry.path, os.fsdecode(text)), target)
    troubles: list[str] = []
    for entry in (e for e in entries if e.mode == _SUBMODULE_MODE):
        (dest / entry.path).mkdir(parents=True, exist_ok=True)
        trouble = _submodule_trouble(top / entry.path, entry.oid)
        if trouble:
            troubles.append(f"the submodule at {entry.path}: {trouble}")
        else:
            troubles += _extract_submodule(top, entry, dest)
    return troubles


def _extract_submodule(top: Path, entry: TreeEntry, dest: Path) -> list[str]:
    inner = extract(top / entry.path, entry.oid, dest / entry.path)
    return [t.replace("the submodule at ", f"the submodule at {entry.path}/", 1) for t in inner]


def _safe(path: str) -> bool:
    parts = path.split("/")
    return not path.startswith("/") and ".." not in parts and ".git" not in parts


def _submodule_trouble(folder: Path, commit: str) -> str | None:
    """Why the submodule checked out at `folder` cannot give `commit`, or None."""
    short = commit[:12]
    if not (folder / ".git").exists():
        return f"not checked out here, so its files at {short} are not read (`git submodule update --init`)"
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or Path(top.stdout.decode().strip()) != folder.resolve():
        return f"no repository of its own here, so its files at {short} are not read"
    if _git(folder, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        return f"its commit {short} is not in its repository (`git submodule update`)"
    return None


class _BatchFailed(Exception):
    pass


def _write_blobs(
    top: Path, commit: str, blobs: list[TreeEntry], dest: Path, *, filters: bool
) -> None:
    names = [f"{commit}:{e.path}" if filters else e.oid for e in blobs]
    plain = [i for i, e in enumerate(blobs) if "\n" in e.path]  # not in a batch's lines
    for index in plain:
        names[index] = blobs[index].oid
    for entry, (_, data) in zip(blobs, _batch(top, names, filters=filters), strict=True):
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(_BLOB_MODES[entry.mode])


def _batch(top: Path, names: list[str], *, filters: bool) -> Iterator[tuple[str, bytes]]:
    """Each object's name and bytes, through one `git cat-file --batch`."""
    if not names:
        return
    if shutil.which("git") is None:
        raise UsageError(GIT_MISSING)
    command = ["git", "-C", str(top), "cat-file", "--batch"]
    # `--filters` wants `rev:path` names; a blob named by its id passes unfiltered.
    try:
        proc = subprocess.Popen(
            [*command, "--filters"] if filters else command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise UsageError(f"git cannot be run ({exc.strerror}); {GET_GIT}") from None
    with proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        feeder = threading.Thread(target=_feed, args=(proc.stdin, names), daemon=True)
        feeder.start()
        try:
            for name in names:
                yield name, _object(proc.stdout)
        finally:
            proc.stdout.close()
            feeder.join()
            proc.wait()


def _feed(stdin: IO[bytes], names: list[str]) -> None:
    try:
        for name in names:
            stdin.write(os.fsencode(name) + b"\n")
        stdin.close()
    except OSError:  # git stopped reading: the reader says why
        pass


def _object(stdout: IO[bytes]) -> bytes:
    header = stdout.readline().split()
    if len(header) != 3:
        raise _BatchFailed
    size = int(header[2])
    data = stdout.read(size)
    stdout.read(1)
    if len(data) != size:
        raise _BatchFailed
    return data
