"""The merge job's sign step (resources/github/sign.py) run as the workflow runs it, with real
cosign against a loopback registry: a throwaway key pair, multi-platform indexes pushed
through the registry API, `.published` files as the publish step writes them. Offline: no
transparency log (BAKEGEN_SIGN_NO_TLOG), as a private registry would sign.

Keyless signing needs GitHub's OIDC token and Sigstore's services, which are not here: its
command line is checked with a stand-in cosign that records its arguments."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bakegen.github.scripts import SIGN, script
from testing.helpers import cosign
from testing.registry import Registry, running

PASSWORD = "throwaway-password"
PLATFORMS = ["linux/amd64", "linux/arm64"]
IMAGES = "app=" + ",".join(PLATFORMS)


@dataclass
class Setup:
    tmp: Path
    registry: Registry
    cosign: str
    env: dict[str, str]  # what cosign runs with: PATH, HOME
    digests: Path

    def key_pair(self, name: str, password: str = PASSWORD) -> Path:
        """A cosign key pair in its own folder: cosign.key (encrypted) and cosign.pub."""
        folder = self.tmp / name
        folder.mkdir()
        subprocess.run(
            [self.cosign, "generate-key-pair"],
            cwd=folder,
            env={**self.env, "COSIGN_PASSWORD": password},
            capture_output=True,
            check=True,
            timeout=60,
        )
        return folder

    def ref(self, repo: str, digest: str) -> str:
        return f"{self.registry.addr}/{repo}@{digest}"

    def sign(self, **env: str) -> subprocess.CompletedProcess[str]:
        """The step's script, with the digests folder and IMAGES set and `env` over them."""
        return subprocess.run(
            [sys.executable, "-c", script(SIGN)],
            env={**self.env, "IMAGES": IMAGES, "DIGESTS_DIR": str(self.digests), **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def verify(self, public: Path, ref: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.cosign, "verify", "--key", str(public), "--insecure-ignore-tlog=true", ref],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    tool = cosign()
    home = tmp_path / "home"  # cosign's own cache (~/.sigstore) stays in the test's folder
    home.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(tool).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
    }
    env.pop("COSIGN_PASSWORD", None)
    digests = tmp_path / "digests"
    digests.mkdir()
    with running(tmp_path / "registry") as registry:
        yield Setup(tmp_path, registry, tool, env, digests)


def key_env(pair: Path, password: str = PASSWORD) -> dict[str, str]:
    """The sign step's environment for a key pair, as the workflow gives it from secrets."""
    return {
        "COSIGN_PRIVATE_KEY": (pair / "cosign.key").read_text(encoding="utf-8"),
        "COSIGN_KEY": "env://COSIGN_PRIVATE_KEY",
        "COSIGN_PASSWORD": password,
        "BAKEGEN_SIGN_NO_TLOG": "true",
    }


def errors(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("::error::")]


@pytest.mark.registry
@pytest.mark.cosign
def test_each_published_digest_is_signed_and_verifies(setup: Setup) -> None:
    pair = setup.key_pair("signer")
    index = setup.registry.push_index("app", "1.0", PLATFORMS)
    mirror = setup.registry.push_index("mirror/app", "1.0", PLATFORMS)
    unsigned = setup.registry.push_index("app", "2.0", PLATFORMS, salt="another")
    published = [setup.ref("app", index), setup.ref("mirror/app", mirror)]
    (setup.digests / "app.published").write_text("\n".join(published) + "\n", "utf-8")
    done = setup.sign(**key_env(pair))
    assert done.returncode == 0, done.stdout + done.stderr
    assert errors(done) == []
    assert [line for line in done.stdout.splitlines() if "signed and verified" in line] == [
        f"app {ref}: signed and verified" for ref in published
    ]
    for ref in published:  # as anyone holding the public key checks it
        check = setup.verify(pair / "cosign.pub", ref)
        assert check.returncode == 0, check.stderr
        assert (
            index.removeprefix("sha256:") in setup.verify(pair / "cosign.pub", published[0]).stdout
        )
    # another digest of the same repository carries no signature
    assert setup.verify(pair / "cosign.pub", setup.ref("app", unsigned)).returncode != 0
    # and another key's public half does not verify these signatures
    other = setup.key_pair("other")
    assert setup.verify(other / "cosign.pub", published[0]).returncode != 0


@pytest.mark.registry
@pytest.mark.cosign
def test_a_signature_that_does_not_verify_fails_the_step(setup: Setup) -> None:
    pair, other = setup.key_pair("signer"), setup.key_pair("other")
    index = setup.registry.push_index("app", "1.0", PLATFORMS)
    (setup.digests / "app.published").write_text(setup.ref("app", index) + "\n", "utf-8")
    done = setup.sign(**key_env(pair), COSIGN_PUBLIC_KEY=str(other / "cosign.pub"))
    assert done.returncode == 1
    assert len(errors(done)) == 1
    assert errors(done)[0].startswith(
        f"::error::app {setup.ref('app', index)}: the signature does not verify"
    )


@pytest.mark.registry
@pytest.mark.cosign
def test_a_tampered_or_locked_key_signs_nothing(setup: Setup) -> None:
    pair = setup.key_pair("signer")
    index = setup.registry.push_index("app", "1.0", PLATFORMS)
    (setup.digests / "app.published").write_text(setup.ref("app", index) + "\n", "utf-8")
    wrong = setup.sign(**key_env(pair, password="not-the-password"))
    assert wrong.returncode == 1
    assert errors(wrong)[0].startswith("::error::cannot read the signing key")
    env = key_env(pair)
    key = env["COSIGN_PRIVATE_KEY"].splitlines()
    middle = len(key) // 2  # one character of the encrypted key changed
    key[middle] = ("A" if key[middle][0] != "A" else "B") + key[middle][1:]
    tampered = setup.sign(**{**env, "COSIGN_PRIVATE_KEY": "\n".join(key) + "\n"})
    assert tampered.returncode == 1
    assert errors(tampered)
    assert setup.verify(pair / "cosign.pub", setup.ref("app", index)).returncode != 0


@pytest.mark.registry
@pytest.mark.cosign
def test_only_digests_are_signed(setup: Setup) -> None:
    pair = setup.key_pair("signer")
    setup.registry.push_index("app", "1.0", PLATFORMS)
    tag = f"{setup.registry.addr}/app:1.0"
    (setup.digests / "app.published").write_text(tag + "\n", "utf-8")
    done = setup.sign(**key_env(pair))
    assert done.returncode == 1
    assert errors(done) == [
        f"::error::app: {tag!r} is not REPO@sha256:<digest>; only digests are signed"
    ]
    assert "+ cosign sign " not in done.stdout


@pytest.mark.registry
@pytest.mark.cosign
def test_refused_unsigned_and_unpublished_images(setup: Setup) -> None:
    pair = setup.key_pair("signer")
    (setup.digests / "app.refused").write_text("gate scan refused ...\n", "utf-8")
    refused = setup.sign(**key_env(pair))
    assert refused.returncode == 0, refused.stdout
    assert "app: refused by a gate, not published: nothing to sign" in refused.stdout
    (setup.digests / "app.refused").unlink()
    skipped = setup.sign(**key_env(pair), UNSIGNED="app")
    assert skipped.returncode == 0, skipped.stdout
    missing = setup.sign(**key_env(pair))
    assert missing.returncode == 1
    assert errors(missing) == [
        "::error::app: no app.published: it was not published, so it is not signed"
    ]


def test_keyless_signs_then_verifies_against_this_workflows_identity(tmp_path: Path) -> None:
    """A stand-in cosign recording its arguments: keyless needs services that are not here."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    stand_in = bin_dir / "cosign"
    stand_in.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n', encoding="utf-8")
    stand_in.chmod(0o755)
    digests = tmp_path / "digests"
    digests.mkdir()
    ref = "ghcr.io/example/app@sha256:" + "a" * 64
    (digests / "app.published").write_text(ref + "\n", "utf-8")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "IMAGES": IMAGES,
        "DIGESTS_DIR": str(digests),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_WORKFLOW_REF": "example/app/.github/workflows/bakegen.yml@refs/heads/main",
    }
    for own in ("COSIGN_KEY", "BAKEGEN_SIGN_NO_TLOG", "UNSIGNED"):
        env.pop(own, None)
    done = subprocess.run(
        [sys.executable, "-c", script(SIGN)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
    assert calls.read_text(encoding="utf-8").splitlines() == [
        f"sign --yes {ref}",
        "verify --certificate-identity-regexp "
        r"^https://github\.com/example/app/\.github/workflows/bakegen\.yml@ "
        f"--certificate-oidc-issuer https://token.actions.githubusercontent.com {ref}",
    ]
    outside = subprocess.run(
        [sys.executable, "-c", script(SIGN)],
        env={k: v for k, v in env.items() if k != "GITHUB_WORKFLOW_REF"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert outside.returncode == 1
    assert "GITHUB_WORKFLOW_REF is not set" in outside.stdout
    no_log = subprocess.run(
        [sys.executable, "-c", script(SIGN)],
        env={**env, "BAKEGEN_SIGN_NO_TLOG": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert no_log.returncode == 1
    assert "BAKEGEN_SIGN_NO_TLOG needs COSIGN_KEY" in no_log.stdout
