"""What each bake target of one side is built from, by kind: its bake entry (as the rendered bake
file gives it), its Dockerfile's bytes, and every file its build reads from its local contexts
(the build context, named folder contexts), each with its digest; and the targets it is built
FROM (its `target:` contexts).

A target whose context, Dockerfile or named contexts are expressions of the bake file cannot
be followed to its files: it gets UNKNOWABLE, and counts as changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from bakegen.affected.entries import Entry, entries
from bakegen.affected.files import IGNORE_FILE, Files
from bakegen.affected.reads import MAIN, WHOLE, Read, reads
from bakegen.emit.bakefile import bake_model
from bakegen.layout import BAKE_FILES
from bakegen.pipeline import Compiled

UNKNOWABLE = "what its build reads"
BAKE_ENTRY = "bake entry"  # the key of the entry's own digest
TARGET = "target:"  # a context built from another target
_OCI_LAYOUT = "oci-layout://"
_LOCAL = "cwd://"


@dataclass(frozen=True)
class Target:
    own: dict[str, str]  # "bake entry", "dockerfile", "context file PATH", ... -> digest
    parents: tuple[str, ...]


def inputs(compiled: Compiled, files: Files, side: str) -> dict[str, Target]:
    """Every built target's inputs, by name; `side` tells the sides' UNKNOWABLE apart."""
    text = compiled.outputs[BAKE_FILES["hcl"]]
    names = [b.name for b in bake_model(compiled.plan).targets]
    return {name: target_of(e, files, side) for name, e in entries(text, names).items()}


def target_of(entry: Entry, files: Files, side: str) -> Target:
    """What one entry is built from, on the side `side` whose files are `files`."""
    own = {BAKE_ENTRY: entry.digest}
    contexts = entry.contexts
    known = (
        isinstance(entry.context, str)
        and isinstance(contexts, dict)
        and all(isinstance(v, str) for v in contexts.values())
        and isinstance(entry.args, dict)
        and (
            isinstance(entry.inline, str)
            or (entry.inline is None and isinstance(entry.dockerfile, str))
        )
    )
    if not known:
        own[UNKNOWABLE] = side
        return Target(own, ())
    assert isinstance(contexts, dict)
    assert isinstance(entry.args, dict)
    named = {str(k): str(v) for k, v in contexts.items()}
    parents = tuple(v.removeprefix(TARGET) for v in named.values() if v.startswith(TARGET))
    local = {k: v.removeprefix(_LOCAL) for k, v in named.items() if is_local(v)}
    root = files.locate(str(entry.context)) if is_local(str(entry.context)) else None
    dockerfile = _dockerfile(entry, files, root)
    own["dockerfile"] = hashlib.sha256(dockerfile).hexdigest() if dockerfile else "absent"
    if dockerfile is None:
        return Target(own, parents)
    try:
        found = reads(dockerfile.decode("utf-8"), entry.args, entry.platforms, set(local))
    except UnicodeDecodeError:
        found = {Read(MAIN, WHOLE)}
    found |= {Read(k, WHOLE) for k, v in local.items() if v.startswith(_OCI_LAYOUT)}
    for read in sorted(found, key=lambda r: (r.context or "", r.pattern)):
        _record(own, files, read, root, local, entry)
    return Target(own, parents)


def is_local(value: str) -> bool:
    """Whether a context value names a folder here (not a target, an image or a URL)."""
    if value.startswith((_LOCAL, _OCI_LAYOUT)):
        return True
    return not (value.startswith((TARGET, "git@")) or "://" in value)


def _dockerfile(entry: Entry, files: Files, root: str | None) -> bytes | None:
    if isinstance(entry.inline, str):
        return entry.inline.encode()
    if root is None:
        return None  # in a remote context: not a file of this repository
    return files.text(files.locate(os.path.join(root, str(entry.dockerfile))))


def _record(
    own: dict[str, str],
    files: Files,
    read: Read,
    root: str | None,
    local: dict[str, str],
    entry: Entry,
) -> None:
    """The files `read` gives, into `own`."""
    if read.context is None:
        if root is None:
            return
        where, label = root, "context file "
        beside = files.locate(os.path.join(root, str(entry.dockerfile)) + IGNORE_FILE)
        ignore = files.text(beside) if entry.inline is None else None
    else:
        where = files.locate(local[read.context].removeprefix(_OCI_LAYOUT))
        label = f"context {read.context} file "
        ignore = None
    if ignore is None:
        ignore = files.text(os.path.join(where, IGNORE_FILE))
    text = (ignore or b"").decode("utf-8", "replace")
    for rel, digest in files.context_files(where, read.pattern, text).items():
        own[label + rel] = digest
