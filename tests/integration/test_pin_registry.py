"""`bakegen pin` against real registries on loopback (Debian's docker-registry), open, behind
basic auth and behind token auth, filled by the tests through the registry API."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from testing.helpers import MINIMAL_MANIFEST, minimal_workspace, run_cli
from testing.registry import TokenService, htpasswd, running

pytestmark = pytest.mark.registry

BASE_DOCKERFILE = "generated/app/debian12/base/Dockerfile"


def workspace(tmp: Path, image: str, extra: str = "") -> Path:
    """The minimal workspace on `image`, built for two platforms, with `extra` top-level keys."""
    manifest = MINIMAL_MANIFEST.replace("debian:bookworm-slim", image).replace(
        "add_to_tags: bookworm\n",
        "add_to_tags: bookworm\n      platforms: [linux/amd64, linux/arm64]\n",
    )
    return minimal_workspace(tmp, extra + manifest)


def from_line(ws: Path) -> str:
    text = (ws / BASE_DOCKERFILE).read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith("FROM"))


def lock_digest(ws: Path, image: str) -> str:
    text = (ws / "manifest.lock").read_text(encoding="utf-8")
    found = re.search(rf'"{re.escape(image)}":\n    digest: (sha256:[a-f0-9]{{64}})', text)
    assert found, text
    return found.group(1)


def test_pin_render_repush_update_and_check(tmp_path: Path) -> None:
    with running(tmp_path / "registry") as registry:
        image = f"{registry.addr}/library/debian:12"
        first = registry.push_index("library/debian", "12", ["linux/amd64", "linux/arm64"])
        ws = workspace(tmp_path, image)
        assert not (ws / "manifest.lock").exists()

        pinned = run_cli("pin", cwd=ws)
        assert pinned.code == 0, pinned.err
        assert pinned.out == f"{image}  {first}  new\n"
        assert lock_digest(ws, image) == first
        assert 'platforms: ["linux/amd64", "linux/arm64"]' in (ws / "manifest.lock").read_text()
        assert run_cli("render", cwd=ws).code == 0
        assert from_line(ws) == f"FROM {image}@{first}"

        # The tag moves; `pin` keeps what the lock has, `pin --update` follows it.
        second = registry.push_index("library/debian", "12", ["linux/amd64", "linux/arm64"], "2")
        assert second != first
        again = run_cli("pin", cwd=ws)
        assert again.code == 0, again.err
        assert again.out == f"{image}  {first}  kept\n"
        assert "manifest.lock: unchanged; 1 base image(s), 0 resolved" in again.err
        assert run_cli("render", "--check", cwd=ws).code == 0

        moved = run_cli("pin", "--update", cwd=ws)
        assert moved.code == 0, moved.err
        assert moved.out == f"{image}  {second}  moved from {first}\n"
        assert lock_digest(ws, image) == second
        check = run_cli("render", "--check", cwd=ws)
        assert check.code == 1
        assert f"update {BASE_DOCKERFILE}" in check.out
        assert run_cli("render", cwd=ws).code == 0
        assert from_line(ws) == f"FROM {image}@{second}"

        # A base image the lock lacks is drift for render --check, and `pin` adds only it.
        other = f"{registry.addr}/library/debian:13"
        third = registry.push_index("library/debian", "13", ["linux/amd64", "linux/arm64"])
        manifest = ws / "manifest" / "m.yml"
        manifest.write_text(manifest.read_text().replace(image, other))
        drift = run_cli("render", "--check", cwd=ws)
        assert drift.code == 1
        assert f"manifest.lock: {other} is not pinned; run `bakegen pin`" in drift.out
        added = run_cli("pin", cwd=ws)
        assert added.code == 0, added.err
        assert added.out == f"{other}  {third}  new\n"
        assert f"1 no longer used dropped ({image})" in added.err
        assert image not in (ws / "manifest.lock").read_text()


def test_single_platform_image_and_missing_platforms(tmp_path: Path) -> None:
    with running(tmp_path / "registry") as registry:
        digest = registry.push_image("one/arch", "1", "linux/amd64")
        registry.push_index("two/arch", "1", ["linux/amd64", "linux/arm/v7"])
        single = f"{registry.addr}/one/arch:1"
        ws = workspace(tmp_path / "single", single)
        result = run_cli("pin", cwd=ws)
        assert result.code == 2
        assert result.err.splitlines() == [
            f"manifest/m.yml:9:7: releases.debian.12.base_image: {single}: the tag names "
            f"{digest[:19]}..., which has no linux/arm64 image (it has linux/amd64); "
            "build it for fewer platforms or choose another tag"
        ]
        assert not (ws / "manifest.lock").exists()

        index = f"{registry.addr}/two/arch:1"
        ws = workspace(tmp_path / "index", index)
        result = run_cli("pin", cwd=ws)
        assert result.code == 2
        assert f"{index}: the tag names sha256:" in result.err
        assert "has no linux/arm64 image (it has linux/amd64, linux/arm/v7)" in result.err
        assert "Traceback" not in result.err

        # Built for the one platform it has, it pins.
        ws = workspace(tmp_path / "fewer", single)
        manifest = ws / "manifest" / "m.yml"
        manifest.write_text(manifest.read_text().replace(", linux/arm64]", "]"))
        assert run_cli("pin", cwd=ws).code == 0
        assert 'platforms: ["linux/amd64"]' in (ws / "manifest.lock").read_text()


def test_each_error_is_one_line_naming_the_image_and_the_lock_stays(tmp_path: Path) -> None:
    with running(tmp_path / "registry") as registry:
        good = f"{registry.addr}/library/debian:12"
        registry.push_index("library/debian", "12", ["linux/amd64", "linux/arm64"])
        ws = workspace(tmp_path, good)
        assert run_cli("pin", cwd=ws).code == 0
        lock = (ws / "manifest.lock").read_bytes()
        manifest = ws / "manifest" / "m.yml"
        cases = {
            f"{registry.addr}/library/nothing:12": (
                f"no image {registry.addr}/library/nothing at {registry.addr} (404); check the name"
            ),
            f"{registry.addr}/library/debian:99": (
                f"no tag '99' in {registry.addr}/library/debian (404); check the tag (it has 12)"
            ),
        }
        for image, said in cases.items():
            manifest.write_text(manifest.read_text().replace(good, image))
            result = run_cli("pin", cwd=ws)
            assert result.code == 2, result.err
            assert result.err.splitlines() == [
                f"manifest/m.yml:9:7: releases.debian.12.base_image: {image}: {said}"
            ]
            assert (ws / "manifest.lock").read_bytes() == lock
            manifest.write_text(manifest.read_text().replace(image, good))

        # A stopped registry.
        registry.stop()
        result = run_cli("pin", "--update", "--timeout", "2", cwd=ws)
        assert result.code == 2
        assert result.err.splitlines() == [
            f"manifest/m.yml:9:7: releases.debian.12.base_image: {good}: cannot reach "
            f"{registry.addr}: Connection refused (3 tries); is the registry up?"
        ]
        assert (ws / "manifest.lock").read_bytes() == lock


def test_basic_auth_with_credentials_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    htpasswd(tmp_path / "htpasswd", "alice", "s3cret-pw")
    with running(tmp_path / "registry", ["htpasswd", str(tmp_path / "htpasswd")]) as registry:
        registry.authorization = "Basic " + base64.b64encode(b"alice:s3cret-pw").decode()
        digest = registry.push_image("team/base", "1", "linux/amd64")
        image = f"{registry.addr}/team/base:1"
        extra = f"base_registries:\n  {registry.addr}:\n    user: REG_USER\n    pwd: REG_PWD\n"
        ws = workspace(tmp_path, image, extra)
        manifest = ws / "manifest" / "m.yml"
        manifest.write_text(manifest.read_text().replace(", linux/arm64]", "]"))

        anonymous = run_cli("pin", cwd=ws)
        assert anonymous.code == 2
        assert anonymous.err.splitlines() == [
            f"manifest/m.yml:13:7: releases.debian.12.base_image: {image}: 401 unauthorized "
            f"at {registry.addr}: the image does not exist or needs credentials (name their "
            f"environment variables under base_registries.{registry.addr})"
        ]
        monkeypatch.setenv("REG_USER", "alice")
        monkeypatch.setenv("REG_PWD", "wrong")
        wrong = run_cli("pin", cwd=ws)
        assert wrong.code == 2
        assert "401 unauthorized at" in wrong.err
        assert "with the credentials given" in wrong.err
        assert not (ws / "manifest.lock").exists()

        monkeypatch.setenv("REG_PWD", "s3cret-pw")
        result = run_cli("pin", cwd=ws)
        assert result.code == 0, result.err
        assert lock_digest(ws, image) == digest
        assert run_cli("render", cwd=ws).code == 0
        written = [p for p in ws.rglob("*") if p.is_file()]
        assert all(b"s3cret-pw" not in p.read_bytes() for p in written)


def test_bearer_token_challenge_anonymous_and_with_credentials(tmp_path: Path) -> None:
    (tmp_path / "token").mkdir()
    with (
        TokenService(tmp_path / "token") as tokens,
        running(tmp_path / "registry", tokens.registry_auth()) as registry,
    ):
        registry.authorization = "Bearer " + tokens.token("repository:library/debian:pull,push")
        digest = registry.push_index("library/debian", "12", ["linux/amd64", "linux/arm64"])
        image = f"{registry.addr}/library/debian:12"
        ws = workspace(tmp_path, image)
        result = run_cli("pin", cwd=ws)
        assert result.code == 0, result.err
        assert lock_digest(ws, image) == digest
        assert tokens.requests == [
            "/token?service=bakegen-test-registry&scope=repository%3Alibrary%2Fdebian%3Apull"
        ]

        # A token service that wants credentials refuses an anonymous pull.
        tokens.user, tokens.password = "bob", "t0ken-pw"
        refused = run_cli("pin", "--update", cwd=ws)
        assert refused.code == 2
        assert refused.err.splitlines() == [
            f"manifest/m.yml:9:7: releases.debian.12.base_image: {image}: the token "
            f"service of {registry.addr} refused an anonymous pull (401); name credentials "
            f"under base_registries.{registry.addr}"
        ]
