"""The registry client's failures against small loopback servers that misbehave on purpose, and
`affected` after a pin moved a base image (git)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bakegen.commands.affected import affected
from bakegen.pin.oci import Credentials, Reference, RegistryError
from bakegen.pin.registry import Client
from bakegen.pipeline import plan_manifest, read_manifest
from testing.helpers import git
from tests.unit.test_pin import DIGEST, example, quick, write_lock

Handler = Callable[[http.server.BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


@contextlib.contextmanager
def server(handle: Handler) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback HTTP server answering every GET with `handle`; yields its address and the
    headers of every request."""
    seen: list[dict[str, str]] = []

    class Handle(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            status, headers, body = handle(self)
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def resolve_error(client: Client, image: str, platforms: tuple[str, ...] = ()) -> str:
    with pytest.raises(RegistryError) as caught:
        client.resolve(Reference.parse(image), platforms)
    return str(caught.value)


def test_a_slow_registry_is_given_up_on_after_bounded_tries() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections, never answers
        addr = f"127.0.0.1:{listener.getsockname()[1]}"
        said = resolve_error(quick(), f"{addr}/x:1")
    assert said == f"no answer from {addr} within 0.2 s (3 tries); is the registry up?"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((200, {}, b"<html>"), "malformed answer from 127.0.0.1:PORT: the manifest is not JSON"),
        ((200, {}, b"[]"), "malformed answer from 127.0.0.1:PORT: the manifest is not a JSON object"),
        (
            (200, {"Docker-Content-Digest": DIGEST}, b"{}"),
            "malformed answer from 127.0.0.1:PORT: the manifest's digest header "
            "sha256:aaaaaaaaaaaa... does not match its content",
        ),
        (
            (200, {"Content-Type": "text/plain"}, b"{}"),
            "malformed answer from 127.0.0.1:PORT: 127.0.0.1:PORT/x:1 is a 'text/plain', neither an image "
            "manifest nor an index",
        ),
        (
            (200, {"Content-Type": "application/vnd.oci.image.index.v1+json"}, b'{"manifests": 1}'),
            "malformed answer from 127.0.0.1:PORT: the index has no list of manifests",
        ),
        ((500, {}, b""), "127.0.0.1:PORT answered 500 for 127.0.0.1:PORT/x:1"),
        ((401, {}, b""), "401 unauthorized at 127.0.0.1:PORT: the image does not exist or needs credentials (name their environment variables under base_registries.127.0.0.1:PORT)"),
    ],
)  # fmt: skip
def test_malformed_and_failed_answers_are_one_line(
    answer: tuple[int, dict[str, str], bytes], said: str
) -> None:
    with server(lambda _: answer) as (addr, seen):
        message = resolve_error(quick(), f"{addr}/x:1")
    assert message == said.replace("127.0.0.1:PORT", addr)
    assert len(seen) == (3 if answer[0] == 500 else 1)  # 5xx is tried again, the rest not


def test_credentials_never_follow_a_redirect_to_another_host() -> None:
    config = json.dumps({"os": "linux", "architecture": "amd64"}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"digest": config_digest},
        }
    ).encode()
    with server(lambda _: (200, {}, config)) as (blobs, blob_seen):

        def registry(
            request: http.server.BaseHTTPRequestHandler,
        ) -> tuple[int, dict[str, str], bytes]:
            if not request.headers.get("Authorization"):
                return 401, {"WWW-Authenticate": 'Basic realm="r"'}, b""
            if "/blobs/" in request.path:
                return 307, {"Location": f"http://{blobs}/storage/blob"}, b""
            return 200, {}, manifest

        with server(registry) as (addr, seen):
            client = quick(credentials={addr: Credentials("u", "p")})
            found = client.resolve(Reference.parse(f"{addr}/x:1"), ("linux/amd64",))
    assert found.platforms == ("linux/amd64",)
    assert found.digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
    assert [s["authorization"].split()[0] for s in seen if "authorization" in s] == ["Basic"] * 2
    assert blob_seen
    assert all("authorization" not in s for s in blob_seen)


def test_a_token_service_over_plain_http_elsewhere_is_refused() -> None:
    challenge = 'Bearer realm="http://auth.example.com/token",service="s"'
    with server(lambda _: (401, {"WWW-Authenticate": challenge}, b"")) as (addr, _):
        said = resolve_error(quick(), f"{addr}/x:1")
    assert said == (
        f"{addr} names a token service over plain HTTP (http://auth.example.com/token); refused"
    )


def test_affected_builds_exactly_the_images_whose_base_moved(tmp_path: Path) -> None:
    ws = example(tmp_path)
    write_lock(ws)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "pinned")
    lock = ws / "manifest.lock"
    lock.write_text(
        lock.read_text().replace(
            f'alpine:3.21":\n    digest: {DIGEST}', f'alpine:3.21":\n    digest: sha256:{"d" * 64}'
        )
    )
    found = affected(ws, "HEAD")
    assert found.targets
    assert all("-alpine3-21-" in t for t in found.targets), found.targets
    plan = plan_manifest(read_manifest(ws))
    assert set(found.targets) == {i.target for i in plan.images if i.distro_id == "alpine3.21"} | {
        v.target for v in plan.verifies if "-alpine3-21-" in v.target
    }
