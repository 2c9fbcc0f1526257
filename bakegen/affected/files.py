"""One side's files as its builds would see them: a folder on disk (the working tree, or REF
taken out of git), with the outputs of that side's render in place of its output folder, and
the files a read of a context gives, each with a digest of what a COPY takes from it (its
bytes and whether it is executable; a symlink's target text).

REF's side lies in a temporary folder; a path that leaves it (a context `../shared` above the
repository) is read where it is in the working tree's repository, as the working tree does.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from bakegen.affected import dockerignore
from bakegen.affected.reads import WHOLE
from bakegen.layout import OUTPUT_DIR
from bakegen.owned import is_generated

FILE, FOLDER, LINK = "file", "folder", "symlink"
IGNORE_FILE = ".dockerignore"
# A whole context's git folder is not compared: every commit changes it.
GIT = ".git"
_MAGIC = re.compile(r"[*?\[\\]")
_HOPS = 40  # symlinks followed on one path, at most
_KINDS = ((stat.S_ISLNK, LINK), (stat.S_ISDIR, FOLDER), (stat.S_ISREG, FILE))


def within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class Files:
    """The files of one side; `real_root` is the working tree's repository when `root` is
    REF's copy of it."""

    def __init__(
        self,
        root: Path,
        workspace: Path,
        outputs: Mapping[str, str],
        real_root: Path | None = None,
    ) -> None:
        self.root = os.path.normpath(root)
        self.real_root = os.path.normpath(real_root) if real_root is not None else None
        self.workspace = os.path.normpath(workspace)
        self.output_dir = os.path.join(self.workspace, OUTPUT_DIR)
        self.outputs = {
            os.path.normpath(os.path.join(self.workspace, rel)): text.encode()
            for rel, text in outputs.items()
        }
        self.folders: set[str] = set()
        self._children: dict[str, set[str]] = {}
        for path in self.outputs:
            child, parent = path, os.path.dirname(path)
            while within(parent, self.workspace):
                self._children.setdefault(parent, set()).add(os.path.basename(child))
                if parent in self.folders:
                    break
                self.folders.add(parent)
                child, parent = parent, os.path.dirname(parent)
        self._digests: dict[str, str] = {}
        self._reads: dict[tuple[str, str, str], dict[str, str]] = {}

    def locate(self, path: str | Path) -> str:
        """`path` (absolute, or relative to the workspace) normalized, on this side."""
        found = os.path.normpath(os.path.join(self.workspace, path))
        if self.real_root is not None and not within(found, self.root):
            found = os.path.normpath(
                os.path.join(self.real_root, os.path.relpath(found, self.root))
            )
        return found

    def kind(self, path: str) -> str | None:
        """FILE, FOLDER, LINK, something else ('other'), or None when nothing is there."""
        if path in self.outputs or path in self.folders:
            return FILE if path in self.outputs else FOLDER
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        kind = next((k for test, k in _KINDS if test(mode)), "other")
        return None if kind == FILE and self._replaced(path) else kind

    def _replaced(self, path: str) -> bool:
        """A file of an earlier render that this side's render removes."""
        return within(path, self.output_dir) and is_generated(Path(path))

    def names(self, folder: str) -> list[str]:
        try:
            found = set(os.listdir(folder))
        except OSError:
            found = set()
        found |= self._children.get(folder, set())
        return sorted(n for n in found if self.kind(os.path.join(folder, n)) is not None)

    def text(self, path: str) -> bytes | None:
        """A file's bytes (None when it is not a file)."""
        if path in self.outputs:
            return self.outputs[path]
        if self.kind(path) != FILE:
            return None
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    def digest(self, path: str) -> str:
        """What a COPY takes from `path`: a file's bytes and executable bit, a link's text."""
        if path not in self._digests:
            self._digests[path] = _digest_of(self, path)
        return self._digests[path]

    def context_files(self, root: str, pattern: str, ignore: str) -> dict[str, str]:
        """The files a read of `pattern` (or WHOLE) from the context at `root` gives, by their
        path in it, with their digests; `ignore` is the text of its .dockerignore."""
        key = (root, pattern, ignore)
        if key not in self._reads:
            left_out = dockerignore.patterns(ignore)
            found: dict[str, str] = {}
            for name, path in _matches(self, root, pattern):
                for rel, actual in _walk(self, name, path, whole=pattern == WHOLE):
                    if not dockerignore.excluded(os.path.relpath(actual, root), left_out):
                        found[rel] = self.digest(actual)
            self._reads[key] = found
        return self._reads[key]


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:  # gone since it was looked at
        return ""


def _digest_of(files: Files, path: str) -> str:
    kind = files.kind(path)
    if kind == LINK:
        return "symlink " + _link(path)
    if kind != FILE:
        return str(kind)
    if path in files.outputs:
        return "file " + hashlib.sha256(files.outputs[path]).hexdigest()
    hashed = hashlib.sha256()
    try:
        executable = bool(os.stat(path).st_mode & stat.S_IXUSR)
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                hashed.update(chunk)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return ("executable " if executable else "file ") + hashed.hexdigest()


def _component(pattern: str) -> re.Pattern[str]:
    """A path component's wildcards as BuildKit matches them (Go's filepath.Match)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := pattern.find("]", i + 2)) > 0:
            inner = pattern[i + 1 : end]
            out.append("[" + ("^" + inner[1:] if inner.startswith("^") else inner) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(re.escape(pattern))


def _matches(files: Files, root: str, pattern: str) -> Iterator[tuple[str, str]]:
    """Each path `pattern` names in the context, as written and where it leads (symlinks on
    the way followed inside the context, as BuildKit follows them)."""
    if pattern == WHOLE:
        yield "", root
        return
    current = [("", root)]
    for part in pattern.split("/"):
        step: list[tuple[str, str]] = []
        for name, there in current:
            path = _follow(files, root, there)
            if not _MAGIC.search(part):
                step.append((f"{name}/{part}".lstrip("/"), os.path.join(path, part)))
            elif files.kind(path) == FOLDER:
                regex = _component(part)
                step.extend(
                    (f"{name}/{n}".lstrip("/"), os.path.join(path, n))
                    for n in files.names(path)
                    if regex.fullmatch(n)
                )
        current = step
    for name, path in current:
        actual = _follow(files, root, path)
        if files.kind(actual) is not None:
            yield name, actual


def _follow(files: Files, root: str, path: str) -> str:
    """Where `path` leads, its symlinks followed, never out of the context's root."""
    for _ in range(_HOPS):
        if files.kind(path) != LINK:
            return path
        target = _link(path)
        base = root if target.startswith("/") else os.path.dirname(path)
        path = os.path.normpath(os.path.join(base, target.lstrip("/")))
        if not within(path, root):
            path = os.path.normpath(os.path.join(root, os.path.relpath(path, root).lstrip("./")))
    return path


def _walk(files: Files, name: str, path: str, *, whole: bool) -> Iterator[tuple[str, str]]:
    """The files under `path` (itself when a file), by their name under `name`; symlinks in a
    folder are taken as they are. A whole context's .git is left out."""
    if files.kind(path) != FOLDER:
        yield name or os.path.basename(path), path
        return
    for entry in files.names(path):
        if whole and entry == GIT:
            continue
        child = os.path.join(path, entry)
        yield from _walk(files, f"{name}/{entry}".lstrip("/"), child, whole=whole)
