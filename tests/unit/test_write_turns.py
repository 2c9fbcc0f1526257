"""Renders of one workspace take turns: two at once, in threads, run one after the other under the
workspace lock, and (the control) interleave without it."""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bakegen.layout import OUTPUT_DIR
from bakegen.pipeline import compile_workspace
from bakegen.write import apply, plan_changes, workspace_lock
from testing.helpers import run_cli
from tests.unit.test_write_safety import NEW, OLD, rendered, side_files, workspace, write_file


def render_in_thread(
    ws: Path, manifest: str, locked: bool, start: threading.Barrier, events: list[str], me: str
) -> None:
    lock = workspace_lock(ws) if locked else _unlocked()
    start.wait()
    with lock:
        write_file(ws / "manifest" / "manifest.yml", manifest)
        compiled = compile_workspace(ws, None, "hcl")
        changes = plan_changes(ws, compiled.outputs, OUTPUT_DIR)

        def hook(*_: str) -> None:
            events.append(me)
            time.sleep(0.003)

        apply(ws, compiled.outputs, changes, hook)
        events.append(me)


@contextmanager
def _unlocked() -> Iterator[None]:
    yield


def two_renders(ws: Path, locked: bool) -> list[str]:
    events: list[str] = []
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(manifest: str, me: str) -> None:
        try:
            render_in_thread(ws, manifest, locked, start, events, me)
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(OLD, "old")),
        threading.Thread(target=run, args=(NEW, "new")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if locked:
        assert not errors, errors
    return events


def runs(events: list[str]) -> int:
    return 1 + sum(1 for a, b in itertools.pairwise(events) if a != b)


def test_two_renders_at_once_take_turns(tmp_path: Path) -> None:
    for attempt in range(5):
        ws = rendered(tmp_path, f"ws{attempt}")
        shutil.rmtree(ws / "generated")
        (ws / "docker-bake.hcl").unlink()
        events = two_renders(ws, locked=True)
        assert runs(events) == 2, events  # one render's steps, then the other's
        last = events[-1]
        write_file(ws / "manifest" / "manifest.yml", OLD if last == "old" else NEW)
        check = run_cli("render", "--check", cwd=ws)
        assert check.code == 0, check.out  # the tree is exactly the last render's
        assert side_files(ws) == []


def test_without_the_lock_the_same_renders_would_interleave(tmp_path: Path) -> None:
    """The control: shows the test above would notice renders running at once."""
    seen = []
    for attempt in range(5):
        ws = workspace(tmp_path, name=f"ws{attempt}")
        seen.append(runs(two_renders(ws, locked=False)))
        if seen[-1] > 2:
            return
    pytest.fail(f"renders never interleaved without the lock: {seen}")
