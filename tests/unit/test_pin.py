"""Pinning without a registry: references, the lock file, render with a lock, and `pin` with the
registry client stood in for (the client against loopback servers:
tests/integration/test_pin_client.py)."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bakegen.commands.pin import update_lock
from bakegen.pin.lock import REDO, Pin, lock_path, lock_text, needs, read_lock
from bakegen.pin.oci import Reference, Resolved, base_url
from bakegen.pin.registry import Client
from bakegen.pipeline import plan_manifest, read_manifest
from bakegen.schema.document import manifest_schema
from testing.helpers import ROOT, WORKSPACES, run_cli

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "domain", "repository", "tag", "host"),
    [
        ("debian", "docker.io", "library/debian", "latest", "registry-1.docker.io"),
        ("debian:bookworm-slim", "docker.io", "library/debian", "bookworm-slim", "registry-1.docker.io"),
        ("rockylinux/rockylinux:9-minimal", "docker.io", "rockylinux/rockylinux", "9-minimal", "registry-1.docker.io"),
        ("index.docker.io/library/alpine:3.21", "docker.io", "library/alpine", "3.21", "registry-1.docker.io"),
        ("ghcr.io/org/img:1", "ghcr.io", "org/img", "1", "ghcr.io"),
        ("localhost:5000/x:2", "localhost:5000", "x", "2", "localhost:5000"),
        ("localhost/x", "localhost", "x", "latest", "localhost"),
    ],
)  # fmt: skip
def test_reference_names_as_docker_reads_them(
    text: str, domain: str, repository: str, tag: str, host: str
) -> None:
    ref = Reference.parse(text)
    assert (ref.domain, ref.repository, ref.tag, ref.host) == (domain, repository, tag, host)


def test_plain_http_only_on_loopback() -> None:
    assert base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert base_url("127.8.9.1:5000") == "http://127.8.9.1:5000"
    assert base_url("localhost:5000") == "http://localhost:5000"
    assert base_url("[::1]:5000") == "http://[::1]:5000"
    assert base_url("registry.example.com:5000") == "https://registry.example.com:5000"
    assert base_url("10.0.0.1:5000") == "https://10.0.0.1:5000"
    assert base_url("localhost.example.com") == "https://localhost.example.com"


def test_lock_file_is_named_after_the_manifest(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "manifest") == tmp_path / "manifest.lock"
    assert lock_path(tmp_path / "images.yml") == tmp_path / "images.lock"
    assert lock_path(tmp_path / "m" / "images.yaml") == tmp_path / "m" / "images.lock"


def test_lock_text_reads_back(tmp_path: Path) -> None:
    pins = {
        "debian:bookworm-slim": Pin(DIGEST, ("linux/amd64", "linux/arm64")),
        "localhost:5000/x:1": Pin("sha256:" + "b" * 64, ("linux/arm/v7",)),
    }
    path = tmp_path / "manifest.lock"
    path.write_text(lock_text(pins), encoding="utf-8")
    assert read_lock(path, "manifest.lock") == pins
    assert read_lock(tmp_path / "none.lock", "none.lock") is None


def example(tmp: Path, source: Path = ROOT) -> Path:
    """A copy of a workspace (with the example's templates when it has none of its own)."""
    ws = tmp / "ws"
    for name in ("manifest", "templates"):
        shutil.copytree(source / name if (source / name).exists() else ROOT / name, ws / name)
    return ws


def write_lock(ws: Path, digest: Callable[[str], str] | None = None) -> dict[str, Pin]:
    """A lock covering every base image of the workspace's manifest, with made-up digests."""
    typed = read_manifest(ws)
    pins = {
        image: Pin(digest(image) if digest else DIGEST, need.platforms)
        for image, need in needs(typed, plan_manifest(typed)).items()
    }
    (ws / "manifest.lock").write_text(lock_text(pins), encoding="utf-8")
    return pins


def from_lines(ws: Path) -> list[str]:
    return [
        line
        for path in sorted((ws / "generated").rglob("Dockerfile"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("FROM ")
    ]


@pytest.mark.parametrize("source", [ROOT, WORKSPACES / "seedlike"], ids=["example", "seedlike"])
def test_render_pins_every_base_image_of_the_lock(tmp_path: Path, source: Path) -> None:
    ws = example(tmp_path, source)
    assert run_cli("render", cwd=ws).code == 0
    unpinned = from_lines(ws)
    pins = write_lock(ws, lambda image: "sha256:" + hashlib.sha256(image.encode()).hexdigest())
    assert len(pins) >= 3
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    assert "warning" not in result.err
    pinned = from_lines(ws)
    bases = [line for line in unpinned if not re.match(r"FROM (base|image)$", line)]
    assert bases, unpinned
    expected = [
        f"{line}@{pins[line.split()[1]].digest}" if line in bases else line for line in unpinned
    ]
    assert pinned == expected
    assert {line.split()[1].split("@")[0] for line in bases} == set(pins)
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_render_check_reports_a_lock_that_does_not_cover_the_manifest(tmp_path: Path) -> None:
    ws = example(tmp_path)
    write_lock(ws)
    manifest = ws / "manifest" / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("alpine:3.21", "alpine:3.22"))
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    assert "warning: manifest.lock: alpine:3.22 is not pinned; run `bakegen pin`" in result.err
    assert (
        "FROM alpine:3.22\n"
        in (ws / "generated/model-server/alpine3.21/base/Dockerfile").read_text()
    )
    check = run_cli("render", "--check", cwd=ws)
    assert check.code == 1
    assert check.out == "manifest.lock: alpine:3.22 is not pinned; run `bakegen pin`\n"
    assert "the lock lacks 1 base image(s); run `bakegen pin`" in check.err
    # A platform the lock's digest was not checked for is drift too.
    lock = ws / "manifest.lock"
    lock.write_text(lock.read_text().replace('"linux/amd64", "linux/arm64"', '"linux/amd64"'))
    check = run_cli("render", "--check", cwd=ws)
    assert check.code == 1
    assert "manifest.lock: debian:bookworm-slim is pinned without linux/arm64; " in check.out


def test_no_lock_renders_as_without_pinning(tmp_path: Path) -> None:
    ws = example(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    assert all("@sha256:" not in line for line in from_lines(ws))
    assert "FROM debian:bookworm-slim" in from_lines(ws)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("version: 2\nimages: {}\n", "manifest.lock:1:1: version: lock version must be 1"),
        (
            'version: 1\nimages:\n  "debian:bookworm-slim":\n    digest: sha256:abc\n'
            '    platforms: ["linux/amd64"]\n',
            "manifest.lock:4:5: images.debian:bookworm-slim.digest: must be sha256:<64 hex digits>",
        ),
        (
            f'version: 1\nimages:\n  "debian:bookworm-slim":\n    digest: {DIGEST}\n'
            "    platforms: linux/amd64\n",
            "manifest.lock:5:5: images.debian:bookworm-slim.platforms: must be a list of "
            "platforms like linux/amd64",
        ),
        ("version: 1\nimages: {}\nextra: 1\n", "manifest.lock:3:1: extra: unknown key"),
        ("- a\n", "manifest.lock:1:1: <root>: the manifest must be a mapping"),
    ],
)
def test_a_bad_lock_is_one_line_at_its_place(tmp_path: Path, text: str, line: str) -> None:
    ws = example(tmp_path)
    (ws / "manifest.lock").write_text(text, encoding="utf-8")
    for command in (["render", "--check"], ["pin"]):
        result = run_cli(*command, cwd=ws)
        assert result.code == 2, result
        assert len(result.err.splitlines()) == 1
        assert result.err.startswith(line), result.err
        assert not (ws / "generated").exists()


# -- pin with the registry client stood in for ---------------------------------------------------


def quick(**kwargs: object) -> Client:
    return Client(timeout=0.2, backoff=0.0, **kwargs)  # type: ignore[arg-type]


def test_an_interrupted_pin_leaves_the_lock_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = example(tmp_path)
    write_lock(ws)
    manifest = ws / "manifest" / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("alpine:3.21", "alpine:3.22"))
    before = (ws / "manifest.lock").read_bytes()

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Client, "resolve", interrupted)
    result = run_cli("pin", cwd=ws)
    assert result.code == 130
    assert "Traceback" not in result.err
    assert (ws / "manifest.lock").read_bytes() == before
    assert sorted(p.name for p in ws.iterdir()) == ["manifest", "manifest.lock", "templates"]


def test_pin_names_only_base_images_of_the_manifest(tmp_path: Path) -> None:
    ws = example(tmp_path)
    result = run_cli("pin", "--update", "debian:sid", cwd=ws)
    assert result.code == 2
    assert result.err.startswith("'debian:sid' is no base image of the manifest (they are: ")
    assert run_cli("pin", "alpine:3.21", cwd=ws).err == (
        "naming images re-resolves them: add --update\n"
    )


def test_pin_resolves_only_what_the_lock_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = example(tmp_path)
    pins = write_lock(ws)
    asked: list[str] = []

    def fake(_: Client, ref: Reference, platforms: tuple[str, ...]) -> Pin:
        asked.append(str(ref))
        return Pin("sha256:" + "c" * 64, tuple(platforms))

    monkeypatch.setattr(Client, "resolve", fake)
    outcome = update_lock(ws, None, quick(), {})
    assert asked == []
    assert {r.change for r in outcome.rows} == {"kept"}
    outcome = update_lock(ws, None, quick(), {}, update=True, only=["alpine:3.21"])
    assert asked == ["docker.io/library/alpine:3.21"]
    moved = {r.image: r.change for r in outcome.rows}
    assert moved["alpine:3.21"] == f"moved from {DIGEST}"
    assert read_lock(ws / "manifest.lock", "manifest.lock") == {
        **pins,
        "alpine:3.21": Pin("sha256:" + "c" * 64, pins["alpine:3.21"].platforms),
    }


# -- one grammar for the lock's writer and reader; a damaged lock is written anew ---------------

PLATFORM_PATTERN = manifest_schema()["$defs"]["platform"]["pattern"]


@given(st.lists(st.from_regex(PLATFORM_PATTERN, fullmatch=True), min_size=1, max_size=3))
def test_every_platform_the_manifest_may_name_reads_back_from_the_lock(
    platforms: list[str],
) -> None:
    pins = {"debian:12": Pin(DIGEST, tuple(platforms))}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.lock"
        path.write_text(lock_text(pins), encoding="utf-8")
        assert read_lock(path, "manifest.lock") == pins


@pytest.mark.parametrize(
    "pin",
    [Pin(DIGEST, ("Linux/AMD64",)), Pin(DIGEST, ()), Pin("sha256:abc", ("linux/amd64",))],
)
def test_the_lock_is_never_written_with_what_its_reader_refuses(pin: Pin) -> None:
    with pytest.raises(ValueError, match="a lock entry the lock reader refuses"):
        lock_text({"debian:12": pin})


ENTRY = f'  "debian:bookworm-slim":\n    digest: {DIGEST}\n    platforms: ["linux/amd64"]\n'
DAMAGED = {
    "platform in capitals": f"version: 1\nimages:\n{ENTRY.replace('linux/amd64', 'Linux/AMD64')}",
    "short digest": f"version: 1\nimages:\n{ENTRY.replace(DIGEST, 'sha256:abc')}",
    "version": f"version: 7\nimages:\n{ENTRY}",
    "unknown key": f"version: 1\nimages:\n{ENTRY}    note: mine\n",
    "entry not a mapping": 'version: 1\nimages:\n  "debian:bookworm-slim": sha256:abc\n',
    "not YAML": f"version: 1\nimages:\n{ENTRY}  [unclosed\n",
    "merge conflict": f"<<<<<<< HEAD\nversion: 1\n=======\nimages:\n{ENTRY}>>>>>>> b\n",
    "two documents": f"version: 1\nimages: {{}}\n---\nversion: 1\nimages:\n{ENTRY}",
    "repeated key": f"version: 1\nversion: 1\nimages:\n{ENTRY}",
    "a list": "- version: 1\n",
    "empty": "",
    "not UTF-8": f"version: 1\nimages:\n{ENTRY}# caf\xe9\n",
}


@pytest.mark.parametrize("text", list(DAMAGED.values()), ids=list(DAMAGED))
def test_a_damaged_lock_says_how_to_recover_and_pin_update_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    ws = example(tmp_path)
    lock = ws / "manifest.lock"
    lock.write_bytes(text.encode("latin-1"))
    for command in (["render"], ["render", "--check"], ["validate"], ["pin"]):
        refused = run_cli(*command, cwd=ws)
        assert refused.code == 2, (command, refused)
        lines = refused.err.splitlines()
        assert lines, command
        assert all(line.startswith("manifest.lock:") for line in lines), (command, lines)
        assert all(line.endswith(REDO) for line in lines), (command, lines)

    def fake(_: Client, ref: Reference, platforms: tuple[str, ...]) -> Resolved:
        return Resolved("sha256:" + hashlib.sha256(str(ref).encode()).hexdigest(), platforms)

    monkeypatch.setattr(Client, "resolve", fake)
    recovered = run_cli("pin", "--update", cwd=ws)
    assert recovered.code == 0, recovered.err
    assert recovered.err.startswith("warning: manifest.lock:"), recovered.err
    assert "written anew" in recovered.err
    pins = read_lock(lock, "manifest.lock")
    assert pins is not None
    assert "debian:bookworm-slim" in pins
    assert run_cli("render", cwd=ws).code == 0
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_pin_update_of_some_images_resolves_what_a_damaged_lock_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = example(tmp_path)
    pins = write_lock(ws)
    lock = ws / "manifest.lock"
    lock.write_text(lock.read_text().replace('"linux/amd64"', '"Linux/AMD64"', 1))
    asked: list[str] = []

    def fake(_: Client, ref: Reference, platforms: tuple[str, ...]) -> Resolved:
        asked.append(str(ref))
        return Resolved("sha256:" + "e" * 64, platforms)

    monkeypatch.setattr(Client, "resolve", fake)
    outcome = update_lock(ws, None, quick(), {}, update=True, only=["alpine:3.21"])
    damaged = sorted(pins)[0]  # the first entry, whose platform was spoilt
    assert sorted(asked) == sorted({"docker.io/library/alpine:3.21", str(Reference.parse(damaged))})
    assert len(outcome.warnings) == 1
    assert "platforms" in outcome.warnings[0]
    assert read_lock(lock, "manifest.lock") is not None


@pytest.mark.parametrize("kind", ["folder", "symlink", "dangling symlink"])
def test_a_lock_that_is_no_regular_file_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    ws = example(tmp_path)
    lock = ws / "manifest.lock"
    if kind == "folder":
        lock.mkdir()
    else:
        (ws / "elsewhere.lock").write_text(lock_text({}), encoding="utf-8")
        lock.symlink_to("elsewhere.lock" if kind == "symlink" else "nowhere.lock")
    monkeypatch.setattr(Client, "resolve", lambda *_: pytest.fail("nothing is resolved"))
    for command in (["render"], ["validate"], ["pin"], ["pin", "--update"]):
        result = run_cli(*command, cwd=ws)
        assert result.code == 2, (command, result)
        assert result.err.startswith("manifest.lock:1:1: <root>: is "), result.err
        assert result.err.endswith("; move it away\n"), result.err
    assert lock.is_symlink() or lock.is_dir()
    assert sorted(p.name for p in ws.iterdir() if "bakegen" in p.name) == []
