"""The cache is never trusted more than the workspace: only what bakegen itself wrote in a
folder of this user's that nobody else can write to is ever read back. A swapped entry (a
compiled template that would run code, an outline or a state that would say something else), a
cache folder copied or restored from elsewhere, a folder of another user's or one others may
write to: each is no cache at all, and the render is what it is without one."""

from __future__ import annotations

import json
import marshal
import os
import pickle
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pytest

from bakegen import cache, cache_folder, identity, pipeline
from bakegen.emit.jinja import strict_environment
from bakegen.sources import digest
from testing.helpers import run_cli, tree
from tests.unit.test_fingerprint import workspace

RAN: list[str] = []  # what a payload did, if it ever ran


def pwned() -> None:
    RAN.append("code from the cache folder ran")


class Payload:
    """Unpickled, it runs `pwned`."""

    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return pwned, ()


@dataclass
class Counts:
    compiles: list[str] = field(default_factory=list)  # full compiles of a render
    templates: list[str] = field(default_factory=list)  # templates Jinja compiled from text


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Counts]:
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    found = Counts()
    real_compile = pipeline.compile_workspace
    real_template = jinja2.Environment.compile

    def compile_workspace(*args: Any, **kwargs: Any) -> pipeline.Compiled:
        found.compiles.append("compile")
        return real_compile(*args, **kwargs)

    def template(self: jinja2.Environment, source: str, name: str | None = None, *a: Any) -> Any:
        found.templates.append(str(name))
        return real_template(self, source, name, *a)

    monkeypatch.setattr(pipeline, "compile_workspace", compile_workspace)
    monkeypatch.setattr(jinja2.Environment, "compile", template)
    RAN.clear()
    yield found
    assert RAN == []


def rendered(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A workspace rendered twice (its state and compiled templates in the cache), and its tree."""
    ws = workspace(tmp_path).resolve()
    for _ in range(2):
        assert run_cli("render", cwd=ws).code == 0
    return ws, tree(ws)


def anew(ws: Path) -> dict[str, bytes]:
    """The workspace rendered into an empty output folder without its state: the tree left."""
    cache.forget(ws)
    shutil.rmtree(ws / "generated")
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    return tree(ws)


def entries(suffix: str) -> list[Path]:
    folder = cache_folder.folder()
    assert folder is not None
    found = sorted(folder.rglob(f"*{suffix}"))
    assert found, suffix
    return found


def written_elsewhere(tmp_path: Path, path: Path, data: bytes) -> bytes:
    """`data` as the entry `path` of another cache folder holds it (another user's, a CI
    cache's): tagged with that folder's key."""
    here = os.environ["BAKEGEN_CACHE"]
    other = tmp_path / "other-cache"
    os.environ["BAKEGEN_CACHE"] = str(other)
    try:
        where = cache_folder.folder(path.parent.parent.name, path.parent.name)
        assert where is not None
        assert cache_folder.keep(where / path.name, data)
        return (where / path.name).read_bytes()
    finally:
        os.environ["BAKEGEN_CACHE"] = here


def _checksum(entry: Path) -> str:
    """The digest of the template text a compiled-template entry was made from."""
    raw = entry.read_bytes()[32 + len(jinja2.bccache.bc_magic) :]
    checksum = pickle.loads(raw)  # what bakegen wrote, in this test's own cache
    assert isinstance(checksum, str)
    return checksum


def _injecting(entry: Path) -> bytes:
    """A compiled template for the text `entry` was compiled from (the same checksum), whose
    code writes other text."""
    env = strict_environment()
    code = env.compile("INJECTED\n", "runtime.Dockerfile.j2", "runtime.Dockerfile.j2")
    return jinja2.bccache.bc_magic + pickle.dumps(_checksum(entry), 2) + marshal.dumps(code)


SWAPS: dict[str, Callable[[Path, Path], bytes]] = {
    "as Jinja writes it": lambda _, entry: _injecting(entry),
    "tagged by another cache folder": lambda tmp, entry: written_elsewhere(
        tmp, entry, _injecting(entry)
    ),
    "a pickle that runs code": lambda tmp, entry: written_elsewhere(
        tmp, entry, jinja2.bccache.bc_magic + pickle.dumps(Payload())
    ),
    "an untagged pickle that runs code": lambda _, __: (
        jinja2.bccache.bc_magic + pickle.dumps(Payload())
    ),
}


@pytest.mark.parametrize("swap", sorted(SWAPS))
def test_a_swapped_compiled_template_is_compiled_again_never_run(
    tmp_path: Path, counts: Counts, swap: str
) -> None:
    ws, first = rendered(tmp_path)
    for entry in entries(".code"):
        entry.write_bytes(SWAPS[swap](tmp_path, entry))
    counts.templates.clear()
    assert anew(ws) == first
    assert "runtime.Dockerfile.j2" in counts.templates


@pytest.mark.usefixtures("counts")
def test_a_swapped_template_outline_is_parsed_again(tmp_path: Path) -> None:
    ws, first = rendered(tmp_path)
    lying = json.dumps([["nowhere.j2"], [[1, "package", "not-a-package"]]]).encode()
    for entry in entries(".outline"):
        entry.write_bytes(written_elsewhere(tmp_path, entry, lying))
    assert anew(ws) == first  # no typo reported where there is none


def test_a_swapped_state_never_says_up_to_date(tmp_path: Path, counts: Counts) -> None:
    """A state that says the workspace's new text was rendered, when it was not."""
    ws, _ = rendered(tmp_path)
    template = ws / "templates/t/runtime.Dockerfile.j2"
    template.write_bytes(template.read_bytes() + b"RUN true\n")
    state = cache.recorded(ws)
    path = cache.state_file(ws)
    assert state is not None
    assert path is not None
    state.reads[str(template)] = digest(template.read_bytes())
    forged = json.dumps(state.__dict__).encode()
    path.write_bytes(written_elsewhere(tmp_path, path, forged))
    counts.compiles.clear()
    checked = run_cli("render", "--check", cwd=ws)
    assert checked.code == 1
    assert checked.out == "update generated/app/debian12/runtime/Dockerfile\n"
    assert counts.compiles == ["compile"]


def test_a_copied_or_restored_cache_folder_is_no_cache(tmp_path: Path, counts: Counts) -> None:
    ws, first = rendered(tmp_path)
    restored = tmp_path / "restored"
    shutil.copytree(tmp_path / "cache", restored)  # as a CI cache comes back, or a backup
    shutil.rmtree(tmp_path / "cache")
    restored.rename(tmp_path / "cache")
    counts.compiles.clear()
    counts.templates.clear()
    assert run_cli("render", cwd=ws).code == 0
    assert counts.compiles == ["compile"]  # the state was not replayed
    assert "runtime.Dockerfile.j2" in counts.templates  # nor a compiled template run
    assert tree(ws) == first
    assert run_cli("render", cwd=ws).code == 0
    assert counts.compiles == ["compile"]  # and the folder is a cache again, with a new key


def _modes(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): stat.S_IMODE(p.lstat().st_mode)
        for p in [folder, *folder.rglob("*")]
    }


def test_every_folder_and_entry_of_the_cache_is_the_user_s_own(tmp_path: Path) -> None:
    os.environ["BAKEGEN_CACHE"] = str(tmp_path / "deep" / "cache")
    old = os.umask(0)  # the loosest umask: what bakegen makes is private all the same
    try:
        ws = workspace(tmp_path)
        assert run_cli("render", cwd=ws).code == 0
    finally:
        os.umask(old)
    modes = _modes(tmp_path / "deep" / "cache")
    assert {m for p, m in modes.items() if (tmp_path / "deep/cache" / p).is_dir()} == {0o700}
    assert {m for p, m in modes.items() if (tmp_path / "deep/cache" / p).is_file()} == {0o600}
    assert {p.split("/")[0] for p in modes} == {".", "key", "state", "templates"}


def _others_may_write(folder: Path) -> None:
    folder.chmod(0o777)


def _group_may_write(folder: Path) -> None:
    folder.chmod(0o770)


def _another_user_s(folder: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    os.chown(folder, 4321, 4321)


def _a_symlink(folder: Path) -> None:
    elsewhere = folder.parent / f"elsewhere-{folder.name}"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere)


REFUSALS: dict[str, Callable[[Path], None]] = {
    "writable by others": _others_may_write,
    "writable by the group": _group_may_write,
    "another user's": _another_user_s,
}


def _cache_parts(tmp_path: Path) -> dict[str, Path]:
    top = tmp_path / "cache"
    return {
        "the cache folder": top,
        "the states' folder": top / "state",
        "this bakegen's templates": top / "templates" / identity.code_digest()[:16],
    }


PARTS = ["the cache folder", "the states' folder", "this bakegen's templates"]
# The cache folder itself may be a symlink the user made; the folders in it may not.
CASES = [(part, how) for part in PARTS for how in sorted(REFUSALS)]
CASES += [(part, "a symlink") for part in PARTS[1:]]


@pytest.mark.parametrize(("part", "how"), CASES)
def test_a_cache_folder_others_could_have_written_is_not_used(
    tmp_path: Path, counts: Counts, part: str, how: str
) -> None:
    ws, first = rendered(tmp_path)
    folder = _cache_parts(tmp_path)[part]
    if how == "a symlink":
        _a_symlink(folder)
    else:
        REFUSALS[how](folder)
    before = {p: p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    counts.compiles.clear()
    counts.templates.clear()
    for _ in range(2):
        if part == "this bakegen's templates":
            cache.forget(ws)  # the state is no help: each render compiles
        assert run_cli("render", cwd=ws).code == 0
        assert run_cli("render", "--check", cwd=ws).code == 0
    assert tree(ws) == first
    after = {p: p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    if part == "this bakegen's templates":
        assert counts.templates.count("runtime.Dockerfile.j2") == 2  # compiled, never kept
    else:
        assert counts.compiles == ["compile"] * 4  # no state read back, none kept
    refused = _cache_parts(tmp_path)[part]
    assert {p: d for p, d in after.items() if refused in p.parents} == {
        p: d for p, d in before.items() if refused in p.parents
    }  # nothing written there
