"""The targets whose inputs differ between a git revision and the working tree.

Both sides are compiled in memory: the working tree from its manifest and templates (its
generated files are not read), REF from its files as git stores them, written into a temporary
folder. A manifest given by an absolute path inside the repository is read at REF from REF's
files; one outside the repository is the same file on both sides (and a warning says so). When
REF does not compile (no workspace there yet, an invalid manifest), every target is affected,
and the note says why. A child of an affected target is affected (through its `target:`
context), and so are the verify checks of affected images.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bakegen.affected import git
from bakegen.affected.files import Files
from bakegen.affected.inputs import UNKNOWABLE, Target, inputs
from bakegen.errors import BakegenError, WriteFailed
from bakegen.layout import manifest_path
from bakegen.pipeline import compile_workspace


@dataclass
class Affected:
    targets: dict[str, list[str]] = field(default_factory=dict)  # target -> reasons
    note: str | None = None  # why everything is affected, when it is
    warnings: list[str] = field(default_factory=list)


def affected(workspace: Path, since: str, manifest: Path | None = None) -> Affected:
    """The targets whose inputs differ between `since` and the working tree, with reasons."""
    repo = git.repository(workspace)
    commit = git.commit_of(repo, since)
    compiled = compile_workspace(workspace, manifest)
    now = inputs(compiled, Files(repo.top, workspace, compiled.outputs), "now")
    result = Affected()
    with tempfile.TemporaryDirectory(prefix="bakegen-affected-") as tmp:
        root = Path(tmp)
        try:
            troubles = git.extract(repo.top, commit, root)
        except OSError as exc:
            raise WriteFailed(
                f"{root}: cannot write the files of {since} there: {exc.strerror or exc}"
            ) from None
        result.warnings += [f"{t}; what it holds counts as changed" for t in troubles]
        old_manifest, warning = _manifest_at(workspace, manifest, repo.top, root)
        if warning:
            result.warnings.append(warning)
        old_ws = root / repo.prefix
        try:
            if not old_ws.is_dir():
                raise _NotThere
            old = compile_workspace(old_ws, old_manifest)
        except (BakegenError, _NotThere) as exc:
            result.note = _why_not(exc, since, repo.prefix, root, troubles)
            result.targets = {t: [f"not compiled at {since}"] for t in now}
            return result
        before = inputs(old, Files(root, old_ws, old.outputs, real_root=repo.top), "before")
    result.targets = changed(now, before, since)
    return result


class _NotThere(Exception):
    pass


def _manifest_at(
    workspace: Path, manifest: Path | None, top: Path, root: Path
) -> tuple[Path | None, str | None]:
    """The manifest path to compile REF's side with (REF's copy of it when it is in the
    repository), and a warning when it is not in the repository."""
    if manifest is None:
        return None, None
    given = manifest_path(workspace, manifest)
    real = Path(os.path.realpath(given))
    try:
        return root / real.relative_to(os.path.realpath(top)), None
    except ValueError:
        return given, (
            f"the manifest {given} is not in the git repository: both sides are compiled "
            "with it as it is now"
        )


def _why_not(exc: BaseException, since: str, prefix: str, root: Path, troubles: list[str]) -> str:
    if isinstance(exc, _NotThere):
        why = f"the workspace folder {prefix} is not in it"
    else:
        assert isinstance(exc, BakegenError)
        why = exc.lines()[0].replace(f"{root}/", "").replace(str(root), ".")
    also = "".join(f"; {t}" for t in troubles)
    return f"{since} does not compile ({why}){also}; every target is affected"


def changed(now: dict[str, Target], before: dict[str, Target], since: str) -> dict[str, list[str]]:
    """The targets of `now` that differ from `before` (or are built FROM one that does), with
    their reasons, in `now`'s order."""
    found: dict[str, list[str]] = {}
    for name, target in now.items():
        old = before.get(name)
        if old is None:
            found[name] = [f"new since {since}"]
            continue
        keys = sorted(set(target.own) | set(old.own))
        reasons = [_reason(k) for k in keys if target.own.get(k) != old.own.get(k)]
        if reasons:
            found[name] = reasons
    grew = True
    while grew:
        grew = False
        for name, target in now.items():
            hit = [p for p in target.parents if p in found]
            if hit and name not in found:
                found[name] = [f"built FROM {p}" for p in hit]
                grew = True
    return {name: found[name] for name in now if name in found}


def _reason(key: str) -> str:
    if key == UNKNOWABLE:
        return f"{UNKNOWABLE} is not known (its context, Dockerfile or contexts is an expression)"
    return f"{key} changed"
