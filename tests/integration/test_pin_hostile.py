"""The registry client against loopback servers that answer as no registry should: slowly, a
byte at a time, nested past reading, with platforms no image has, with redirects and token
services that are no URLs. Every one is one line naming the host (`bakegen pin`: the image too,
exit 2), in bounded time; none is a crash."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bakegen.pin.oci import Reference, RegistryError
from bakegen.pin.registry import Client
from testing.helpers import MINIMAL_MANIFEST, minimal_workspace, run_cli
from tests.integration.test_pin_client import Handler, resolve_error, server
from tests.unit.test_pin import quick

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@contextlib.contextmanager
def raw_server(talk: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback server handing each connection to `talk` (in a thread of its own); yields
    its address."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_talk, args=(talk, conn), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


def _talk(talk: Callable[[socket.socket], None], conn: socket.socket) -> None:
    with conn, contextlib.suppress(OSError):
        conn.recv(65536)  # the request
        talk(conn)


def drip(data: bytes, every: float) -> Callable[[socket.socket], None]:
    """Send `data` one byte every `every` seconds, then stall for ever (until the peer goes)."""

    def talk(conn: socket.socket) -> None:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(every)
        while conn.recv(1):
            pass

    return talk


HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"


@pytest.mark.parametrize(
    "talk",
    [
        drip(HEADERS, 0.05),  # the status line and headers, a byte at a time
        lambda conn: (conn.sendall(HEADERS), drip(b"{" * 100000, 0.05)(conn)),  # the body
    ],
    ids=["headers", "body"],
)
def test_a_registry_that_drips_is_given_up_on_at_the_deadline(
    talk: Callable[[socket.socket], None],
) -> None:
    """Each read gets a byte well within the timeout; the whole answer never comes."""
    with raw_server(talk) as addr:
        started = time.monotonic()
        said = resolve_error(Client(timeout=0.3, backoff=0.0), f"{addr}/x:1")
        took = time.monotonic() - started
    assert said == f"no answer from {addr} within 0.3 s (3 tries); is the registry up?"
    assert took < 3 * 0.3 + 0.6, took


def slow(seconds: float, answer: tuple[int, dict[str, str], bytes]) -> Handler:
    def handle(_: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        time.sleep(seconds)
        return answer

    return handle


HOP = 0.3  # seconds each server takes to answer: within the timeout, but not two of them


def chain(auth: str, blobs: str, *, challenge: bool) -> Handler:
    """A registry taking HOP seconds an answer: a Bearer challenge naming the token service at
    `auth` (when `challenge`), then the manifest, whose config blob is a redirect to `blobs`."""
    manifest = json.dumps({"mediaType": OCI_MANIFEST, "config": {"digest": CONFIG_DIGEST}})

    def registry(request: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        time.sleep(HOP)
        headers = request.headers
        if challenge and headers.get("Authorization") != "Bearer t":
            said = f'Bearer realm="http://{auth}/token",service="s"'
            return 401, {"WWW-Authenticate": said}, b""
        if "/blobs/" in request.path:
            return 307, {"Location": f"http://{blobs}/blob"}, b""
        return 200, {}, manifest.encode()

    return registry


CONFIG = json.dumps({"os": "linux", "architecture": "amd64"}).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()


@pytest.mark.parametrize("challenge", [True, False], ids=["token fetch", "redirect"])
def test_the_deadline_covers_the_token_fetch_and_the_redirects(challenge: bool) -> None:
    """Each hop answers within the timeout; a request of two hops (the challenge and the token
    fetch, or the redirect and the blob) does not, and is given up on, naming the host it
    waited for when the deadline passed. With time enough for every hop it succeeds."""
    with (
        server(slow(HOP, (200, {}, json.dumps({"token": "t"}).encode()))) as (auth, _),
        server(slow(HOP, (200, {}, CONFIG))) as (blobs, _),
        server(chain(auth, blobs, challenge=challenge)) as (addr, _),
    ):
        said = resolve_error(Client(timeout=1.5 * HOP, backoff=0.0), f"{addr}/x:1")
        found = Client(timeout=10 * HOP).resolve(Reference.parse(f"{addr}/x:1"), ("linux/amd64",))
    waited = auth if challenge else blobs
    assert said == f"no answer from {waited} within {1.5 * HOP:g} s (3 tries); is the registry up?"
    assert found.platforms == ("linux/amd64",)


def nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def index(*platforms: dict[str, str]) -> bytes:
    return json.dumps(
        {
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "0" * 64, "platform": p}
                for p in platforms
            ],
        }
    ).encode()


DEEP = nested(100000)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="https://[::1/token",service="s"'}


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((200, {}, DEEP), "malformed answer from HOST: the manifest is not JSON"),
        ((200, {}, b"\xff\xfe{}"), "malformed answer from HOST: the manifest is not JSON"),
        ((404, {}, DEEP), "no image HOST/x at HOST (404); check the name"),
        ((500, {}, DEEP), "HOST answered 500 for HOST/x:1"),
        ((200, {}, b'{"mediaType": [[["x"]]]}'), "malformed answer from HOST: HOST/x:1 is a 'unknown', neither an image manifest nor an index"),
        ((200, {}, index({"os": "linux", "architecture": "am d64"})), "the tag names sha256:"),
        ((200, {}, json.dumps({"mediaType": OCI_MANIFEST, "config": []}).encode()), "malformed answer from HOST: the image manifest has no config digest"),
        ((307, {"Location": "http://[::1/x"}, b""), "malformed answer from HOST: redirects 'http://[::1/x', which is no http(s) URL"),
        ((307, {"Location": "ftp://example.com/x"}, b""), "malformed answer from HOST: redirects 'ftp://example.com/x', which is no http(s) URL"),
        ((307, {"Location": "/caf\u00e9"}, b""), "malformed answer from HOST: redirects '/caf\u00e9', which is no http(s) URL"),
        ((307, {"Location": "http://127.0.0.1:port/"}, b""), "malformed answer from HOST: redirects 'http://127.0.0.1:port/', which is no http(s) URL"),
        ((401, CHALLENGE, b""), "malformed answer from HOST: names a token service 'https://[::1/token', which is no http(s) URL"),
    ],
)  # fmt: skip
def test_a_malformed_answer_is_one_line_naming_the_host(
    answer: tuple[int, dict[str, str], bytes], said: str
) -> None:
    with server(lambda _: answer) as (addr, _):
        message = resolve_error(quick(), f"{addr}/x:1", ("linux/amd64",))
    assert message.startswith(said.replace("HOST", addr)), message
    assert len(message.splitlines()) == 1


def test_deep_json_from_the_token_service_in_the_config_and_the_tag_list() -> None:
    with server(lambda _: (200, {}, DEEP)) as (auth, _):
        challenge = {"WWW-Authenticate": f'Bearer realm="http://{auth}/token"'}
        with server(lambda _: (401, challenge, b"")) as (addr, _):
            said = resolve_error(quick(), f"{addr}/x:1")
    assert said == f"malformed answer from {auth}: the token service's answer is not JSON"
    config_digest = "sha256:" + hashlib.sha256(DEEP).hexdigest()
    manifest = json.dumps({"mediaType": OCI_MANIFEST, "config": {"digest": config_digest}})

    def registry(request: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        blob = "/blobs/" in request.path
        return 200, {}, DEEP if blob else manifest.encode()

    with server(registry) as (addr, _):
        said = resolve_error(quick(), f"{addr}/x:1")
    assert said == f"malformed answer from {addr}: the image config is not JSON"

    def tags(request: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        listed = "/tags/list" in request.path
        return (200, {}, DEEP) if listed else (404, {}, b"")

    with server(tags) as (addr, _):
        said = resolve_error(quick(), f"{addr}/x:1")
    assert said == f"malformed answer from {addr}: the tag list is not JSON"


def test_platforms_are_read_as_containerd_reads_them() -> None:
    """`Linux/AMD64` is linux/amd64; a platform no image can have is not served at all."""
    served = index(
        {"os": "Linux", "architecture": "AMD64"},
        {"os": "linux", "architecture": "ARM64", "variant": "V8"},
        {"os": "linux", "architecture": "x/y"},
        {"os": "unknown", "architecture": "unknown"},
    )
    with server(lambda _: (200, {}, served)) as (addr, _):
        found = quick().resolve(Reference.parse(f"{addr}/x:1"), ("linux/amd64",))
    assert found.platforms == ("linux/amd64", "linux/arm64")


MANIFEST = MINIMAL_MANIFEST.replace("debian:bookworm-slim", '"IMAGE"')


def test_pin_writes_what_render_reads_and_names_image_and_host_on_errors(
    tmp_path: Path,
) -> None:
    served = index({"os": "Linux", "architecture": "AMD64"})
    with server(lambda _: (200, {}, served)) as (addr, _):
        ws = minimal_workspace(tmp_path, MANIFEST.replace("IMAGE", f"{addr}/x:1"))
        pinned = run_cli("pin", "--timeout", "2", cwd=ws)
    assert pinned.code == 0, pinned.err
    assert 'platforms: ["linux/amd64"]' in (ws / "manifest.lock").read_text()
    rendered = run_cli("render", cwd=ws)
    assert rendered.code == 0, rendered.err
    before = (ws / "manifest.lock").read_bytes()
    with server(lambda _: (200, {}, DEEP)) as (other, _):
        manifest = ws / "manifest" / "m.yml"
        manifest.write_text(MANIFEST.replace("IMAGE", f"{other}/y:2"))
        failed = run_cli("pin", cwd=ws)
    assert failed.code == 2
    assert failed.err == (
        "manifest/m.yml:9:7: releases.debian.12.base_image: "
        f"{other}/y:2: malformed answer from {other}: the manifest is not JSON\n"
    )
    assert (ws / "manifest.lock").read_bytes() == before


def constant(answer: tuple[int, dict[str, str], bytes]) -> Handler:
    return lambda _: answer


def test_no_other_exception_leaves_the_client() -> None:
    """Answers of every status with bodies of every shape: a RegistryError or a result."""
    bodies = [DEEP, b"", b"null", b"{}", b'{"errors": [[]]}', b'{"tags": [{"a": 1}]}', index()]
    for status in (200, 301, 401, 403, 404, 429, 500):
        for body in bodies:
            with (
                server(constant((status, {}, body))) as (addr, _),
                contextlib.suppress(RegistryError),
            ):
                Client(timeout=1.0, attempts=1).resolve(Reference.parse(f"{addr}/x:1"), ())
