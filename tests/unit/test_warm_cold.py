"""The oracle of the render state: whatever is done to a workspace, a render with the cache as
earlier renders left it (warm) says and writes exactly what a render without any state (cold,
in a cache folder of its own) says and writes. `render --check`'s exit code, its output and its
messages; `render`'s, and every file it leaves. Run over the edits tests/unit/test_fingerprint.py
makes, over files saved while a render reads them, and over a few hundred seeded random edits of
the manifest, the templates, an include, the bake template, the lock and the outputs."""

from __future__ import annotations

import functools
import os
import random
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bakegen import cache, sources
from bakegen.layout import MARKER
from bakegen.pin.lock import Pin, lock_text
from testing.helpers import MINIMAL_MANIFEST, run_cli
from tests.unit.test_fingerprint import CHANGES, NOT_REGULAR, RUNTIME, workspace

Verdict = tuple[int, str, str]
DIGEST = "sha256:" + "c" * 64


class Oracle:
    """A workspace rendered warm (its own cache folder, kept from step to step) and cold (a
    cache folder the warm renders never see, whose state is forgotten before each render; now
    and then a new, empty one)."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.ws = workspace(tmp).resolve()
        self.mp = monkeypatch
        self.warm_cache = tmp / "warm-cache"
        self.cold_cache = tmp / "cold-cache"
        self.colds = 0
        self.twins = 0

    def _run(self, folder: Path, ws: Path, *args: str) -> Verdict:
        self.mp.setenv("BAKEGEN_CACHE", str(folder))
        result = run_cli(*args, cwd=ws)
        return result.code, result.out, result.err

    def _cold_cache(self, fresh: bool) -> Path:
        if fresh:
            self.colds += 1
            self.cold_cache = self.tmp / f"cold-cache-{self.colds}"
        return self.cold_cache

    def check(self, fresh: bool = False) -> Verdict:
        """`render --check` warm and cold: the same verdict, or the test fails."""
        warm = self._run(self.warm_cache, self.ws, "render", "--check")
        folder = self._cold_cache(fresh)
        self.mp.setenv("BAKEGEN_CACHE", str(folder))
        cache.forget(self.ws)
        cold = self._run(folder, self.ws, "render", "--check")
        assert warm == cold
        return warm

    def render(self, fresh: bool = False) -> Verdict:
        """`render` warm in the workspace and cold in a copy of it as it was: the same verdict and
        the same files left."""
        self.twins += 1
        twin = self.tmp / f"twin-{self.twins}" / self.ws.name
        copy_tree(self.ws, twin)
        warm = self._run(self.warm_cache, self.ws, "render")
        folder = self._cold_cache(fresh)
        self.mp.setenv("BAKEGEN_CACHE", str(folder))
        cache.forget(twin)
        cold = self._run(folder, twin, "render")
        shown = tuple(str(part).replace(str(twin), str(self.ws)) for part in cold)
        assert warm == (cold[0], *shown[1:])
        assert listing(self.ws) == listing(twin)
        return warm


def copy_tree(src: Path, dest: Path) -> None:
    """`src` copied to `dest` as it is: symlinks as symlinks, FIFOs as FIFOs."""
    dest.mkdir(parents=True)
    for entry in os.scandir(src):
        target = dest / entry.name
        if entry.is_symlink():
            target.symlink_to(os.readlink(entry.path))
        elif entry.is_dir():
            copy_tree(Path(entry.path), target)
        elif stat.S_ISFIFO(entry.stat().st_mode):
            os.mkfifo(target)
        else:
            shutil.copy2(entry.path, target)


def listing(top: Path) -> dict[str, object]:
    """Every entry under `top`: a file's bytes, a symlink's target, or what else it is."""
    found: dict[str, object] = {}
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top).as_posix()
        if path.is_symlink():
            found[rel] = ("symlink", os.readlink(path))
        elif path.is_file():
            found[rel] = path.read_bytes()
        elif not path.is_dir():
            found[rel] = "not a regular file"
    return found


@pytest.fixture
def oracle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Oracle:
    # What is on the disk is the same with or without the flush before a render's renames
    # (tests/unit/test_write_safety.py holds the writer to it); without it, these hundreds of
    # renders take seconds, not the machine's every disk's flush time.
    monkeypatch.setattr(os, "sync", lambda: None)
    return Oracle(tmp_path, monkeypatch)


@pytest.mark.parametrize("name", sorted({**CHANGES, **NOT_REGULAR}))
def test_after_each_edit_of_the_corpus_warm_and_cold_agree(oracle: Oracle, name: str) -> None:
    assert oracle.render()[0] == 0
    assert oracle.check() == (0, "", "up to date: 4 file(s)\n")
    {**CHANGES, **NOT_REGULAR}[name](oracle.ws)
    oracle.check()
    oracle.render()
    oracle.check()


# --- files saved while a render reads them ---------------------------------------------------

INPUTS = {
    "manifest/m.yml": MINIMAL_MANIFEST.replace("3.12", "3.11"),
    "templates/t/runtime.Dockerfile.j2": RUNTIME.decode() + "RUN true\n",
    "templates/common/labels.j2": 'LABEL a="2"\n',
    "docker-bake.hcl.j2": '{% extends "bakegen/docker-bake.hcl.j2" %}\n'
    "{% block header %}# saved late\n{{ super() }}{% endblock %}\n",
    "manifest.lock": lock_text(
        {"debian:bookworm-slim": Pin("sha256:" + "d" * 64, ("linux/amd64",))}
    ),
}
PINNED = lock_text({"debian:bookworm-slim": Pin(DIGEST, ("linux/amd64",))})


@pytest.mark.parametrize("rel", sorted(INPUTS))
def test_a_file_saved_while_the_render_reads_it_is_never_up_to_date_by_mistake(
    oracle: Oracle, monkeypatch: pytest.MonkeyPatch, rel: str
) -> None:
    """The render used the bytes it read first; the file then holds others. Whatever the render
    reads later (a check, Jinja looking again) must not make the state say the new bytes."""
    ws = oracle.ws
    (ws / "docker-bake.hcl.j2").write_text(
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n', encoding="utf-8"
    )
    (ws / "manifest.lock").write_text(PINNED, encoding="utf-8")
    assert oracle.render()[0] == 0
    assert oracle.check()[0] == 0
    oracle.mp.setenv("BAKEGEN_CACHE", str(oracle.warm_cache))
    cache.forget(ws)  # the next render compiles (and reads nothing to compare with a state)
    real = sources.Sources.read
    saved: list[str] = []

    def read_then_saved(self: sources.Sources, path: Path | str, limit: int | None = None) -> bytes:
        data = real(self, path, limit)
        if os.fspath(path) == os.fspath(ws / rel) and not saved:
            (ws / rel).write_text(INPUTS[rel], encoding="utf-8")  # an editor saves, now
            saved.append(rel)
        return data

    with monkeypatch.context() as patch:
        patch.setattr(sources.Sources, "read", read_then_saved)
        assert run_cli("render", cwd=ws).code == 0
    assert saved == [rel]
    verdict = oracle.check()
    assert verdict[0] == 1, verdict  # the files were made from the old bytes: drift
    oracle.render()
    again = oracle.check()
    assert again[0] == 0, again


# --- seeded random edits ---------------------------------------------------------------------

STEPS = 200
LABELS = "templates/common/labels.j2"
OUTPUT = "generated/app/debian12/runtime/Dockerfile"
VARIANTS: dict[str, list[str]] = {
    "manifest/m.yml": [
        MINIMAL_MANIFEST,
        MINIMAL_MANIFEST.replace("3.12", "3.11"),
        MINIMAL_MANIFEST.replace('["3.12"]', '["3.11", "3.12"]'),
        MINIMAL_MANIFEST + "labels: {team: images}\n",
        MINIMAL_MANIFEST + "# a comment only\n",
        MINIMAL_MANIFEST.replace("templates/t", "templates/none"),
        "packages: [\n",  # not YAML
        "python_versions: 3\n",  # not the schema
    ],
    "manifest/n.yml": ["labels: {extra: yes}\n", "platforms: [linux/amd64, linux/arm64]\n"],
    "templates/t/runtime.Dockerfile.j2": [
        RUNTIME.decode(),
        RUNTIME.decode() + "RUN true\n",
        "FROM base\n{{ not_a_name }}\n",
        "FROM base\n{% if package == 'ap' %}RUN x\n{% endif %}\n",
        'FROM base\n{% include "missing.j2" %}\n',
        "FROM base\n{% if %}\n",
    ],
    "templates/t/base.Dockerfile.j2": ["FROM {{ base_image }}\n", "FROM {{ base_image }}\nRUN a\n"],
    LABELS: ['LABEL a="1"\n', 'LABEL a="2"\n', "{{ python_version }}\n"],
    "templates/t/common/labels.j2": ['LABEL shadow="1"\n'],
    "docker-bake.hcl.j2": [
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n',
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n{% block header %}# mine\n'
        "{{ super() }}{% endblock %}\n",
        "{{ broken(\n",
    ],
    "manifest.lock": [
        lock_text({}),
        lock_text({"debian:bookworm-slim": Pin(DIGEST, ("linux/amd64",))}),
        lock_text({"debian:bookworm-slim": Pin(DIGEST, ("linux/arm64",))}),
        "version: 99\n",
    ],
    OUTPUT: ["# mine\n", f"# {MARKER}\nFROM base\n"],
    "docker-bake.hcl": [f"# {MARKER}\n"],
    "generated/app/stray": [f"# {MARKER}\n"],
}


def _write(path: Path, data: bytes) -> None:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _same_size_same_time(path: Path, rng: random.Random) -> None:
    """One byte changed, the size and the modification time kept: a stat can't tell."""
    data = bytearray(path.read_bytes())
    if not data:
        return
    info = path.stat()
    at = rng.randrange(len(data))
    data[at] = ord("x") if data[at] != ord("x") else ord("y")
    path.write_bytes(bytes(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _as_symlink(path: Path, outside: Path) -> None:
    outside.mkdir(exist_ok=True)
    copy = outside / f"{len(list(outside.iterdir()))}-{path.name}"
    shutil.copy(path, copy)
    path.unlink()
    path.symlink_to(copy)


def _choices(
    path: Path, variants: list[str], rng: random.Random, outside: Path
) -> dict[str, Callable[[], None]]:
    """What may be done to `path`: write one of its variants, or (when it is a file) delete,
    touch it, write its own bytes again or changed a little, or put a symlink in its place."""
    choices: dict[str, Callable[[], None]] = {
        "write": lambda: _write(path, rng.choice(variants).encode())
    }
    if not path.is_file():
        return choices
    data = path.read_bytes()
    return choices | {
        "delete": path.unlink,
        "touch": lambda: os.utime(path, ns=(rng.randrange(1, 2**40),) * 2),
        "same bytes again": lambda: _write(path, data),
        "same size and time": lambda: _same_size_same_time(path, rng),
        "CRLF": lambda: _write(path, data.replace(b"\n", b"\r\n")),
        "BOM": lambda: _write(path, b"\xef\xbb\xbf" + data),
        "not UTF-8": lambda: _write(path, data + b"\xff\n"),
        "symlink to the same bytes": lambda: _as_symlink(path, outside),
    }


def edits(rng: random.Random, ws: Path, outside: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """Random edits of the workspace, forever: what is done, and doing it. Now and then every
    file is put back as it was first (as by `git checkout .`), so that most edits are made to
    a workspace that renders."""
    originals = {rel: (ws / rel).read_bytes() for rel in VARIANTS if (ws / rel).is_file()}

    def restore(rel: str) -> None:
        if rel in originals:
            _write(ws / rel, originals[rel])
        else:
            (ws / rel).unlink(missing_ok=True)

    while True:
        if rng.random() < 0.4:
            for rel in sorted(VARIANTS):
                restore(rel)
        rel = rng.choice(sorted(VARIANTS))
        path = ws / rel
        choices = _choices(path, VARIANTS[rel], rng, outside)
        choices["restore"] = functools.partial(restore, rel)
        what = rng.choice(sorted(choices))
        yield f"{what} {rel}", choices[what]


def test_warm_and_cold_agree_over_seeded_random_edits(
    oracle: Oracle, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20240524)
    replays: list[str] = []
    real = cache.unchanged

    def counted(workspace: Path, expected_key: str) -> cache.State | None:
        state = real(workspace, expected_key)
        if state is not None and workspace == oracle.ws:
            replays.append(os.environ["BAKEGEN_CACHE"])
        return state

    monkeypatch.setattr(cache, "unchanged", counted)
    ws = oracle.ws
    (ws / "manifest.lock").write_text(PINNED, encoding="utf-8")
    oracle.render()
    done: list[str] = []
    verdicts: set[int] = set()
    for step, (what, edit) in zip(
        range(STEPS), edits(rng, ws, oracle.tmp / "outside"), strict=False
    ):
        done.append(what)
        edit()
        try:
            verdicts.add(oracle.check(fresh=step % 25 == 0)[0])
            if rng.random() < 0.3:
                verdicts.add(oracle.render(fresh=step % 40 == 0)[0])
        except AssertionError as exc:
            raise AssertionError(f"after {done}: {exc}") from None
    assert verdicts == {0, 1, 2}  # up to date, drift and refusals all met
    warm = replays.count(str(oracle.warm_cache))
    assert len(replays) == warm > 30, warm  # warm renders known unchanged, often; cold never
