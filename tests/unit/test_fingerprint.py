"""An unchanged workspace is known unchanged without compiling it, and never wrongly: every kind
of input or output change compiles again."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bakegen import cache, identity, pipeline
from testing.helpers import MINIMAL_MANIFEST, minimal_workspace, run_cli, tree

RUNTIME = b'FROM base\n{% include "common/labels.j2" %}\n'


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Each full compile of a render, counted; the state cache in a folder of this test."""
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    calls: list[str] = []
    real = pipeline.compile_workspace

    def counted(*args: Any, **kwargs: Any) -> pipeline.Compiled:
        calls.append("compile")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "compile_workspace", counted)
    return calls


def workspace(tmp_path: Path) -> Path:
    ws = minimal_workspace(tmp_path, runtime=RUNTIME)
    (ws / "templates" / "common").mkdir()
    (ws / "templates" / "common" / "labels.j2").write_text('LABEL a="1"\n', encoding="utf-8")
    return ws


def render(ws: Path, *args: str) -> str:
    result = run_cli("render", *args, cwd=ws)
    assert result.code == 0, result.err
    return result.err


def test_an_unchanged_workspace_is_not_compiled_again(tmp_path: Path, compiles: list[str]) -> None:
    ws = workspace(tmp_path)
    render(ws)
    before = tree(ws)
    stamps = {p: p.stat().st_mtime_ns for p in ws.rglob("*") if p.is_file()}
    cache.forget(ws.resolve())
    full = render(ws)  # compiled, and found nothing to do
    assert compiles == ["compile", "compile"]
    compiles.clear()
    fast = render(ws)
    assert compiles == []
    assert fast == full  # the same words as a render that compiled and found nothing to do
    checked = run_cli("render", "--check", cwd=ws)
    assert (checked.code, checked.err) == (0, "up to date: 4 file(s)\n")
    assert compiles == []
    assert tree(ws) == before
    assert {p: p.stat().st_mtime_ns for p in ws.rglob("*") if p.is_file()} == stamps


def edit(path: Path, text: str) -> Callable[[Path], None]:
    def change(ws: Path) -> None:
        (ws / path).parent.mkdir(parents=True, exist_ok=True)
        (ws / path).write_text(text, encoding="utf-8")

    return change


CHANGES: dict[str, Callable[[Path], object]] = {
    "a manifest value": edit(Path("manifest/m.yml"), MINIMAL_MANIFEST.replace("3.12", "3.11")),
    "a new manifest file": edit(Path("manifest/n.yml"), "labels: {team: images}\n"),
    "a template": edit(Path("templates/t/runtime.Dockerfile.j2"), RUNTIME.decode() + "RUN true\n"),
    "an included file": edit(Path("templates/common/labels.j2"), 'LABEL a="2"\n'),
    "an include shadowed earlier on the search path": edit(
        Path("templates/t/common/labels.j2"), 'LABEL a="3"\n'
    ),
    "a bake template of the workspace": edit(
        Path("docker-bake.hcl.j2"),
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n{% block header %}# mine\n'
        "{{ super() }}{% endblock %}\n",
    ),
    "an edited output": edit(Path("generated/app/debian12/runtime/Dockerfile"), "# mine\n"),
    "a deleted output": lambda ws: (ws / "generated/app/debian12/runtime/Dockerfile").unlink(),
    "an extra file among the outputs": lambda ws: shutil.copy(
        ws / "generated/app/debian12/base/Dockerfile", ws / "generated/app/old.Dockerfile"
    ),
    "a bake file of the other format": lambda ws: shutil.copy(
        ws / "docker-bake.hcl", ws / "docker-bake.json"
    ),
    "a killed render's leftover": lambda ws: shutil.copy(
        ws / "docker-bake.hcl", ws / "docker-bake.hcl.0123abcd.bakegen-tmp"
    ),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_any_change_compiles_again(tmp_path: Path, compiles: list[str], name: str) -> None:
    ws = workspace(tmp_path)
    render(ws)
    render(ws)
    assert compiles == ["compile"]  # the second render knew nothing had changed
    compiles.clear()
    CHANGES[name](ws)
    result = run_cli("render", cwd=ws)
    assert compiles == ["compile"], name
    # and the outcome is a full render's: the same tree as rendering a copy without any state
    fresh = tmp_path / "fresh"
    shutil.copytree(ws, fresh / "ws")
    cache.forget(fresh / "ws")
    again = run_cli("render", cwd=fresh / "ws")
    assert (result.code, tree(ws)) == (again.code, tree(fresh / "ws"))


def test_other_options_or_another_bakegen_compile_again(
    tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace(tmp_path)
    render(ws)
    render(ws)
    compiles.clear()
    render(ws, "--max-targets", "100")
    assert compiles == ["compile"]
    render(ws, "--max-targets", "100")
    assert compiles == ["compile"]
    monkeypatch.setattr(identity, "code_digest", lambda: "another bakegen")
    render(ws, "--max-targets", "100")
    assert compiles == ["compile", "compile"]
    render(ws, "--format", "json")
    assert compiles == ["compile", "compile", "compile"]
    assert not (ws / "docker-bake.hcl").exists()


def test_a_lock_file_appearing_compiles_again(tmp_path: Path, compiles: list[str]) -> None:
    ws = workspace(tmp_path)
    render(ws)
    render(ws)
    compiles.clear()
    (ws / "manifest.lock").write_text("version: 1\nimages: {}\n", encoding="utf-8")
    result = run_cli("render", "--check", cwd=ws)
    assert compiles == ["compile"]
    assert result.code == 1
    assert "debian:bookworm-slim is not pinned" in result.out


def test_a_state_that_cannot_be_read_is_no_error(tmp_path: Path, compiles: list[str]) -> None:
    ws = workspace(tmp_path)
    render(ws)
    state = cache.state_file(ws.resolve())
    assert state is not None
    state.write_text("{not json", encoding="utf-8")
    render(ws)
    assert compiles == ["compile", "compile"]


def _swap_for_symlink(rel: str) -> Callable[[Path], None]:
    """`rel` moved out of the workspace and a symlink to it left in its place (same text)."""

    def change(ws: Path) -> None:
        outside = ws.parent / "outside" / rel
        outside.parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).rename(outside)
        (ws / rel).symlink_to(outside)

    return change


def _fifo_for(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


NOT_REGULAR: dict[str, Callable[[Path], object]] = {
    "an output as a symlink": _swap_for_symlink("generated/app/debian12/runtime/Dockerfile"),
    "an output folder as a symlink": _swap_for_symlink("generated/app/debian12"),
    "the output folder as a symlink": _swap_for_symlink("generated"),
    "the bake file as a symlink": _swap_for_symlink("docker-bake.hcl"),
    "a manifest file as a symlink": _swap_for_symlink("manifest/m.yml"),
    "an included file as a symlink": _swap_for_symlink("templates/common/labels.j2"),
    "a FIFO among the outputs": lambda ws: os.mkfifo(ws / "generated/app/fifo"),
    "a FIFO for an output": lambda ws: _fifo_for(ws / "generated/app/debian12/base/Dockerfile"),
}


@pytest.mark.parametrize("name", sorted(NOT_REGULAR))
def test_anything_but_the_regular_files_recorded_compiles_again(
    tmp_path: Path, compiles: list[str], name: str
) -> None:
    ws = workspace(tmp_path)
    render(ws)
    render(ws)
    compiles.clear()
    NOT_REGULAR[name](ws)
    run_cli("render", cwd=ws)  # refused or not, never known unchanged
    assert compiles == ["compile"], name


@pytest.fixture
def fresh_identity() -> Iterator[None]:
    """The library identity worked out anew in this test, and again after it."""
    identity.installed.cache_clear()
    identity.code_digest.cache_clear()
    yield
    identity.installed.cache_clear()
    identity.code_digest.cache_clear()


@pytest.mark.parametrize("library", ["typer", "click", "rich", "jinja2", "markupsafe", "pyyaml"])
@pytest.mark.usefixtures("fresh_identity")
def test_another_version_of_a_library_compiles_again(
    tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch, library: str
) -> None:
    ws = workspace(tmp_path)
    render(ws)
    render(ws)
    assert compiles == ["compile"]
    installed = identity.libraries()[library]
    # another version installed ahead of this one on the import path, as by `pip install`
    shadow = tmp_path / "site"
    (shadow / f"{library}-{installed}.post9.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(shadow))
    identity.installed.cache_clear()
    identity.code_digest.cache_clear()
    assert identity.libraries()[library] == f"{installed}.post9"
    render(ws)
    assert compiles == ["compile", "compile"]
    render(ws)
    assert compiles == ["compile", "compile"]  # and known unchanged under that version


def _requirements(name: str) -> set[str]:
    """The distributions `name` needs, transitively, as importlib.metadata tells them."""
    found: set[str] = set()
    pending = [name]
    while pending:
        current = re.sub(r"[-_.]+", "-", pending.pop()).lower()
        if current in found:
            continue
        try:
            requires = importlib.metadata.requires(current) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        found.add(current)
        pending += [
            re.match(r"[A-Za-z0-9._-]+", r)[0]  # type: ignore[index]
            for r in requires
            if "extra ==" not in r
        ]
    return found


@pytest.mark.usefixtures("fresh_identity")
def test_the_key_holds_every_library_bakegen_needs_as_importlib_metadata_versions_it() -> None:
    needed = _requirements("bakegen") - {"bakegen"}
    assert {"pyyaml", "jinja2", "markupsafe", "jsonschema", "typer", "rich"} <= needed
    libraries = identity.libraries()
    assert {n: libraries.get(n) for n in needed} == {
        n: importlib.metadata.version(n) for n in needed
    }
    before = identity.code_digest()
    identity.code_digest.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "version", sys.version + " (another build)")
        assert identity.code_digest() != before  # another Python renders again
    identity.code_digest.cache_clear()
