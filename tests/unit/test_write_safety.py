"""Writes that lose nothing: all or nothing under a fault at every step, stale files removed only
when bakegen made them, nothing of a person's overwritten or deleted, no write through a symlink
(renders taking turns: test_write_turns.py; real processes:
tests/integration/test_write_safety_process.py).
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bakegen.errors import WriteFailed
from bakegen.layout import BAK_SUFFIX, MARKER, OUTPUT_DIR, TMP_SUFFIX
from bakegen.pipeline import compile_workspace
from bakegen.write import Changes, apply, plan_changes
from testing.helpers import CORPUS, run_cli, tree, unavailable

TEMPLATES = CORPUS / "_base" / "templates"

OLD = """python_versions: ["3.11", "3.12"]
packages:
  app:
    runtime: [debian, alpine]
    devel: [debian]
releases:
  debian:
    "12":
      templates_dir: templates/std
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
      envars: [LANG=C.UTF-8]
  alpine:
    "3.21":
      templates_dir: templates/std
      base_image: alpine:3.21
      add_to_tags: alpine3.21
"""
# alpine goes (its files are deleted), LANG changes (an update), package tool comes (creates).
NEW = (
    OLD.replace("runtime: [debian, alpine]", "runtime: [debian]")
    .replace("LANG=C.UTF-8", "LANG=en_US.UTF-8")
    .replace("packages:\n", "packages:\n  tool:\n    runtime: [debian]\n")
)
FOREIGN = "generated/notes.txt"
STALE = "generated/retired/debian11/base/Dockerfile"
LEFTOVERS = (
    f"generated/app/debian12/base/Dockerfile.0badf00d{TMP_SUFFIX}",
    f"generated/app/debian12/base/Dockerfile.0badf00d{BAK_SUFFIX}",
)
TRIALS: dict[str, int] = {}


class Fault(Exception):
    """The failure a test injects."""


def folders(ws: Path) -> list[str]:
    return sorted(p.relative_to(ws).as_posix() for p in ws.rglob("*") if p.is_dir())


def side_files(ws: Path) -> list[str]:
    return sorted(
        p.relative_to(ws).as_posix()
        for p in ws.rglob("*")
        if p.name.endswith((TMP_SUFFIX, BAK_SUFFIX))
    )


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def workspace(tmp_path: Path, manifest: str = OLD, name: str = "ws") -> Path:
    ws = tmp_path / name
    shutil.copytree(TEMPLATES, ws / "templates")
    write_file(ws / "manifest" / "manifest.yml", manifest)
    return ws


def rendered(tmp_path: Path, name: str = "ws") -> Path:
    ws = workspace(tmp_path, name=name)
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    return ws


@dataclass
class Prepared:
    """A rendered workspace with the new manifest swapped in: where every trial starts."""

    ws: Path
    outputs: dict[str, str]
    changes: Changes
    files: dict[str, bytes]
    folders: list[str]

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.ws, dest, symlinks=True)
        return dest

    def expected_after(self) -> dict[str, bytes]:
        after = {k: v for k, v in self.files.items() if k not in self.changes.delete}
        after.update({k: v.encode() for k, v in self.outputs.items()})
        return after


def prepare(tmp_path: Path, fmt: str) -> Prepared:
    ws = rendered(tmp_path, "prepared")
    write_file(ws / FOREIGN, "a person's notes\n")
    write_file(ws / STALE, f"# {MARKER} (template: templates/std/base.Dockerfile.j2)\nFROM x\n")
    # A killed render's backup is a whole former Dockerfile; its staged file may be cut short.
    write_file(ws / LEFTOVERS[0], f"# header\n# {MARKER} (template: t)\nFROM x\n")
    write_file(ws / LEFTOVERS[1], "# header\n# genera")
    write_file(ws / "manifest" / "manifest.yml", NEW)
    compiled = compile_workspace(ws, None, fmt)
    changes = plan_changes(ws, compiled.outputs, OUTPUT_DIR)
    assert changes.create
    assert changes.update
    assert {STALE, *LEFTOVERS} <= set(changes.delete)
    assert changes.foreign == [FOREIGN]
    return Prepared(ws, compiled.outputs, changes, tree(ws), folders(ws))


def fail_at(index: int, real: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """A stand-in that fails on its `index`-th call (0-based) and otherwise calls `real`."""
    count = 0

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        if count - 1 == index:
            if real is None:
                raise Fault(f"injected at call {index}")
            raise OSError(errno.EIO, f"injected at call {index}")
        return real(*args, **kwargs) if real else None

    return stand_in


def counter(real: Callable[..., Any] | None = None) -> tuple[list[int], Callable[..., Any]]:
    calls = [0]

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs) if real else None

    return calls, stand_in


# Where faults are injected: the hook apply calls before each step, and the file-system calls
# write.py makes (patched on the objects it reaches them through).
FAULT_POINTS: dict[str, tuple[Any, str]] = {
    "hook": (None, ""),
    "os.replace": (os, "replace"),
    "os.sync": (os, "sync"),
    "mkdir": (Path, "mkdir"),
    "open": (Path, "open"),
}


@contextmanager
def patched(point: str, stand_in: Callable[..., Any]) -> Iterator[Callable[..., None]]:
    """Install `stand_in` at `point`; yield the hook to pass to apply."""
    owner, name = FAULT_POINTS[point]
    if owner is None:
        yield stand_in
        return
    with pytest.MonkeyPatch.context() as mp:
        if owner is Path and name == "open":
            real_open = Path.open

            def open_for_write_only(self: Path, mode: str = "r", *a: Any, **k: Any) -> Any:
                if "x" in mode or "w" in mode:
                    return stand_in(self, mode, *a, **k)
                return real_open(self, mode, *a, **k)

            mp.setattr(Path, "open", open_for_write_only)
        else:
            mp.setattr(owner, name, stand_in)
        yield no_hook


def no_hook(*_: str) -> None:
    """apply's hook when the fault is injected elsewhere."""


def real_function(point: str) -> Callable[..., Any] | None:
    owner, name = FAULT_POINTS[point]
    return None if owner is None else getattr(owner, name)


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("point", list(FAULT_POINTS))
def test_a_fault_at_every_step_leaves_the_previous_tree(
    point: str, fmt: str, tmp_path: Path
) -> None:
    prepared = prepare(tmp_path, fmt)
    real = real_function(point)
    calls, count_calls = counter(real)
    ws = prepared.copy(tmp_path / "count")
    with patched(point, count_calls) as hook:
        apply(ws, prepared.outputs, prepared.changes, hook)
    assert tree(ws) == prepared.expected_after()
    assert side_files(ws) == []
    assert calls[0] > 0
    for index in range(calls[0]):
        ws = prepared.copy(tmp_path / f"trial-{index}")
        with (
            patched(point, fail_at(index, real)) as hook,
            pytest.raises((Fault, OSError, WriteFailed)),
        ):
            apply(ws, prepared.outputs, prepared.changes, hook)
        assert tree(ws) == prepared.files, f"{point} call {index}"
        assert folders(ws) == prepared.folders, f"{point} call {index}"
        shutil.rmtree(ws)
    TRIALS[f"{point}-{fmt}"] = calls[0]


def test_fault_trials_cover_every_kind_of_change() -> None:
    """Runs after the trials above (file order): they were many, over creates, updates, deletes."""
    if len(TRIALS) < 2 * len(FAULT_POINTS):
        unavailable("run with the fault-injection trials above it (the whole module)")
    # 4 files staged and committed (2 created, 2 updated); 5 moved aside: alpine's 2 Dockerfiles,
    # a stale one and 2 leftovers of a killed render.
    assert TRIALS["hook-hcl"] == 4 + 4 + 5
    # Over both formats: hook 13 + 14, os.replace 11 + 11, 4 each for mkdir and open, and one
    # flush of the staged files each.
    assert sum(TRIALS.values()) == 67


def test_hook_sees_stage_commit_delete_in_order(tmp_path: Path) -> None:
    prepared = prepare(tmp_path, "hcl")
    steps: list[str] = []
    apply(prepared.ws, prepared.outputs, prepared.changes, lambda s, p: steps.append(f"{s} {p}"))
    written = sorted(prepared.changes.create + prepared.changes.update)
    assert steps == (
        [f"stage {p}" for p in prepared.changes.create + prepared.changes.update]
        + [f"commit {p}" for p in prepared.changes.create + prepared.changes.update]
        + [f"delete {p}" for p in prepared.changes.delete]
    )
    assert sorted(s.split(" ", 1)[1] for s in steps if s.startswith("stage")) == written


def test_stale_removed_only_with_marker_foreign_kept_with_warning(tmp_path: Path) -> None:
    ws = rendered(tmp_path)
    write_file(ws / FOREIGN, "a person's notes\n")
    write_file(ws / "generated/app/alpine3.21/base/NOTES.md", "also a person's\n")
    write_file(ws / STALE, f"# {MARKER}\nFROM x\n")
    write_file(ws / "manifest" / "manifest.yml", NEW)
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    assert not (ws / STALE).exists()
    assert not (ws / "generated/retired").exists()
    assert not (ws / "generated/app/alpine3.21/base/Dockerfile").exists()
    assert (ws / FOREIGN).read_text() == "a person's notes\n"
    assert (ws / "generated/app/alpine3.21/base/NOTES.md").read_text() == "also a person's\n"
    assert result.err.splitlines()[:2] == [
        "warning: generated/notes.txt: not made by bakegen; left alone",
        "warning: generated/app/alpine3.21/base/NOTES.md: not made by bakegen; left alone",
    ]


def test_a_persons_file_where_bakegen_writes_is_never_overwritten(tmp_path: Path) -> None:
    ws = rendered(tmp_path)
    mine = ws / "generated/app/debian12/base/Dockerfile"
    mine.write_text("FROM my-own-image\n", encoding="utf-8")
    (ws / "docker-bake.json").write_text('{"target": {}}\n', encoding="utf-8")
    write_file(ws / "manifest" / "manifest.yml", NEW)
    before = tree(ws)
    for args in (["render"], ["render", "--format", "json"], ["render", "--check"]):
        result = run_cli(*args, cwd=ws)
        assert result.code == 2, args
        assert (
            "generated/app/debian12/base/Dockerfile: not made by bakegen (no marker), and "
            "bakegen would overwrite it; move it away or delete it"
        ) in result.err.splitlines()
        assert tree(ws) == before, args
    json_run = run_cli("render", "--format", "json", cwd=ws)
    assert (
        "docker-bake.json: not made by bakegen (no marker), and bakegen would overwrite it; "
        "move it away or delete it"
    ) in json_run.err.splitlines()


def test_a_folder_where_bakegen_writes_a_file_is_an_error(tmp_path: Path) -> None:
    ws = rendered(tmp_path)
    target = ws / "generated/app/debian12/runtime/Dockerfile"
    target.unlink()
    write_file(target / "keep.txt", "mine\n")
    before = tree(ws)
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "generated/app/debian12/runtime/Dockerfile: is a folder where bakegen writes a file; "
        "move it away"
    ]
    assert tree(ws) == before


@pytest.mark.parametrize(
    ("link", "target_kind"),
    [
        ("generated/app", "dir"),
        ("generated", "dir"),
        ("generated/app/debian12/base/Dockerfile", "file"),
        ("docker-bake.hcl", "file"),
    ],
)
def test_no_write_through_a_symlink(link: str, target_kind: str, tmp_path: Path) -> None:
    ws = rendered(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    source = ws / link
    if target_kind == "dir":
        shutil.copytree(source, outside / "copy")
        shutil.rmtree(source)
        source.symlink_to(outside / "copy", target_is_directory=True)
    else:
        (outside / "copy").write_bytes(source.read_bytes())
        source.unlink()
        source.symlink_to(outside / "copy")
    (outside / "precious.txt").write_text("not bakegen's\n", encoding="utf-8")
    write_file(ws / "manifest" / "manifest.yml", NEW)
    outside_before = tree(outside)
    ws_before = tree(ws)
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{link}: is a symlink; bakegen does not write through symlinks "
        "(remove it and render again)"
    ]
    assert "Traceback" not in result.err
    assert tree(outside) == outside_before
    assert tree(ws) == ws_before
    assert side_files(outside) == []


def test_symlinks_off_the_output_paths_are_left_alone(tmp_path: Path) -> None:
    ws = rendered(tmp_path)
    outside = tmp_path / "outside"
    (outside / "old").mkdir(parents=True)
    (outside / "old" / "Dockerfile").write_text(f"# {MARKER}\nFROM x\n", encoding="utf-8")
    (outside / "stale").write_text(f"# {MARKER}\n", encoding="utf-8")
    (ws / "generated" / "old").symlink_to(outside / "old", target_is_directory=True)
    (ws / "generated" / "stale").symlink_to(outside / "stale")
    before = tree(outside)
    write_file(ws / "manifest" / "manifest.yml", NEW)
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    assert tree(outside) == before
    assert (ws / "generated" / "old").is_symlink()
    assert (ws / "generated" / "stale").is_symlink()
