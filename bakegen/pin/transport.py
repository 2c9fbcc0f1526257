"""One HTTP GET of `bakegen pin` under a deadline: connecting (TLS included), the status line,
the headers and the body must all arrive before it, however the server paces its bytes.

A socket timeout bounds each read only: a server sending one byte a second keeps a plain
reader waiting for ever. Here a timer shuts the connection down at the deadline, which ends any
read or handshake in progress; what was cut short that way is a `TimeoutError`. Several GETs
(a redirect, a token fetch) may share one deadline.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping

from bakegen.pin.oci import MAX_BODY, Response, malformed

_CHUNK = 64 * 1024


class Deadline:
    """A moment on the monotonic clock that requests must be done by."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; TimeoutError when there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left


class _Watch:
    """The sockets of one GET, shut down when its deadline passes (unless it is done first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fds: list[int] = []
        self._done = False
        self.expired = False

    def connect(
        self,
        address: tuple[str, int],
        timeout: float,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        sock = socket.create_connection(address, timeout, source_address)
        with self._lock:
            if self.expired:
                sock.close()
                raise TimeoutError
            self._fds.append(sock.fileno())  # the same number once TLS wraps the socket
        return sock

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for fd in self._fds:
                try:
                    with socket.socket(fileno=os.dup(fd)) as twin:
                        twin.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def finish(self) -> None:
        """No shutdown from now on (the connection's descriptors are about to be closed)."""
        with self._lock:
            self._done = True


def get(
    url: str, headers: Mapping[str, str], deadline: Deadline, context: ssl.SSLContext
) -> Response:
    """GET `url` (no redirect followed), whole before `deadline`: TimeoutError otherwise."""
    parts = urllib.parse.urlsplit(url)
    left = deadline.left()
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.netloc, timeout=left, context=context)
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=left)
    watch = _Watch()
    vars(connection)["_create_connection"] = watch.connect
    timer = threading.Timer(left, watch.expire)
    timer.daemon = True
    timer.start()
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target or "/", headers=dict(headers))
        raw = connection.getresponse()
        body = _body(raw, parts.netloc, deadline)
        if watch.expired:
            raise TimeoutError
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, body, url)
    except (OSError, http.client.HTTPException, ValueError):
        if watch.expired:
            raise TimeoutError from None
        raise
    finally:
        watch.finish()
        timer.cancel()
        connection.close()


def _body(raw: http.client.HTTPResponse, host: str, deadline: Deadline) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        deadline.left()
        chunk = raw.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise malformed(host, f"more than {MAX_BODY // 1024 // 1024} MiB")
        chunks.append(chunk)
