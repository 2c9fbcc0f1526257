"""Real registries on loopback for the pin tests: Debian's docker-registry, open, behind basic
auth (a bcrypt htpasswd file) or behind token auth (a token service here signing JWTs with an
openssl key), filled through the registry API itself: no Docker engine needed.

In CI (CI=true) a missing tool fails the tests that need it; locally it skips them, saying how
to install it.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import http.server
import io
import json
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from testing.helpers import ROOT, unavailable

ENGINE_SH = ROOT / "scripts" / "engine.sh"
INSTALL_HINT = "install them with: scripts/engine.sh install-registry (as root, on Debian)"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SERVICE = "bakegen-test-registry"
ISSUER = "bakegen-test-issuer"


def need_tools(*tools: str) -> None:
    """Fail (CI) / skip (locally) unless every tool is on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not found; {INSTALL_HINT}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(addr: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{addr}/v2/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 401 behind auth: it is up
    except OSError:
        return False


@dataclass
class Registry:
    """A docker-registry process on loopback; `stop()` ends it, `start()` runs it again."""

    folder: Path
    auth: list[str] = field(default_factory=list)  # registry-config's auth arguments
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    authorization: str | None = None  # what pushes send

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = subprocess.run(
            [
                "bash",
                str(ENGINE_SH),
                "registry-config",
                str(self.folder / "data"),
                self.addr,
                *self.auth,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (self.folder / "config.yml").write_text(config, encoding="utf-8")
        log = (self.folder / "log").open("ab")
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(self.folder / "config.yml")],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 20
        while not _answers(self.addr):
            if self.process.poll() is not None or time.monotonic() > deadline:
                said = (self.folder / "log").read_text(errors="replace")[-2000:]
                self.stop()
                pytest.fail(f"docker-registry did not come up on {self.addr}:\n{said}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    # -- filling it through the API ---------------------------------------------------------

    def _call(
        self, method: str, url: str, body: bytes = b"", content_type: str | None = None
    ) -> Any:
        if not url.startswith("http"):
            url = f"http://{self.addr}{url}"
        request = urllib.request.Request(url, data=body or None, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.authorization:
            request.add_header("Authorization", self.authorization)
        return urllib.request.urlopen(request, timeout=10)

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._call("POST", f"/v2/{repo}/blobs/uploads/", b"") as started:
            location = urllib.parse.urljoin(f"http://{self.addr}/", started.headers["Location"])
        sep = "&" if "?" in location else "?"
        with self._call("PUT", f"{location}{sep}digest={digest}", data, "application/octet-stream"):
            pass
        return digest

    def push_manifest(self, repo: str, ref: str, document: dict[str, Any]) -> str:
        body = json.dumps(document).encode()
        with self._call("PUT", f"/v2/{repo}/manifests/{ref}", body, document["mediaType"]):
            pass
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def push_image(self, repo: str, tag: str, platform: str = "linux/amd64", salt: str = "") -> str:
        """A tiny image (one empty layer) for one platform; its digest. `salt` makes another."""
        descriptor = self._image(repo, platform, salt)
        return self.push_manifest(repo, tag, descriptor)

    def _image(self, repo: str, platform: str, salt: str) -> dict[str, Any]:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo(f"etc/bakegen-{salt or 'base'}")
            info.mtime = 0
            tar.addfile(info, io.BytesIO(b""))
        layer_tar = raw.getvalue()
        layer = gzip.compress(layer_tar, mtime=0)
        os_name, arch, *variant = platform.split("/")
        config = {
            "architecture": arch,
            "os": os_name,
            **({"variant": variant[0]} if variant else {}),
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()],
            },
            "config": {"Labels": {"salt": salt}},
        }
        config_bytes = json.dumps(config).encode()
        return {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": self.push_blob(repo, config_bytes),
                "size": len(config_bytes),
            },
            "layers": [
                {"mediaType": OCI_LAYER, "digest": self.push_blob(repo, layer), "size": len(layer)}
            ],
        }

    def push_index(self, repo: str, tag: str, platforms: list[str], salt: str = "") -> str:
        """A multi-platform index of tiny images; its digest."""
        manifests = []
        for platform in platforms:
            document = self._image(repo, platform, salt)
            body = json.dumps(document).encode()
            digest = self.push_manifest(
                repo, "sha256:" + hashlib.sha256(body).hexdigest(), document
            )
            os_name, arch, *variant = platform.split("/")
            manifests.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": len(body),
                    "platform": {
                        "os": os_name,
                        "architecture": arch,
                        **({"variant": variant[0]} if variant else {}),
                    },
                }
            )
        return self.push_manifest(
            repo, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        )


@contextlib.contextmanager
def running(folder: Path, auth: list[str] | None = None) -> Iterator[Registry]:
    need_tools("docker-registry")
    registry = Registry(folder, auth or [])
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


def htpasswd(path: Path, user: str, password: str) -> None:
    """A bcrypt htpasswd file (the only kind docker-registry reads)."""
    need_tools("htpasswd")
    subprocess.run(["htpasswd", "-bBc", str(path), user, password], check=True, capture_output=True)


# -- token auth --------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenService:
    """The token service of a registry with token auth: answers GET /token?service&scope with a
    JWT signed by its key (RS256, the certificate in `x5c`), to anyone, or only to `user`."""

    folder: Path
    user: str | None = None
    password: str | None = None
    requests: list[str] = field(default_factory=list)  # the paths asked, with their query
    server: http.server.ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        need_tools("openssl")
        self.key = self.folder / "token.key"
        self.cert = self.folder / "token.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=bakegen-test-token", "-keyout", str(self.key), "-out", str(self.cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode("ascii")

    @property
    def realm(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def registry_auth(self) -> list[str]:
        return ["token", self.realm, SERVICE, ISSUER, str(self.cert)]

    def token(self, scope: str, subject: str = "") -> str:
        access = []
        if scope:
            kind, name, actions = scope.split(":", 2)
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 600,
            "nbf": now - 30,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return signing + "." + _b64url(signature)

    def __enter__(self) -> TokenService:
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(self.path)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if service.user is not None:
                    expected = "Basic " + base64.b64encode(
                        f"{service.user}:{service.password}".encode()
                    ).decode("ascii")
                    if self.headers.get("Authorization") != expected:
                        self.send_response(401)
                        self.end_headers()
                        return
                scope = (query.get("scope") or [""])[0]
                body = json.dumps({"token": service.token(scope)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
