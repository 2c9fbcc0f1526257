"""The OCI distribution client of `bakegen pin`: an image tag to its digest, and the platforms
that digest serves.

- names as Docker reads them: `debian` is `docker.io/library/debian`, whose registry answers at
  `registry-1.docker.io`;
- HTTPS everywhere but on loopback registries (127.0.0.0/8, ::1, localhost), which are spoken
  to in plain HTTP; a redirect or a token service leaving HTTPS for another host is refused;
- anonymous pulls through the Bearer token challenge (`WWW-Authenticate: Bearer realm=...,
  service=...,scope=...`), and basic auth, with the credentials given (never written anywhere,
  never sent to another host a redirect leads to);
- every request has a deadline, for the whole of it: connecting, the headers and the body, its
  redirects and the token fetch of its challenge; a request that cannot connect, misses its
  deadline or gets 5xx or 429 is tried a bounded number of times;
- every failure is a `RegistryError` with one line a person can act on; an answer that is not
  what the API gives (not JSON, nested past reading, a platform no image can have, a redirect
  to no URL) names the host it came from.

Only the standard library: http.client, with redirects followed here.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bakegen.manifest.platforms import served_platform
from bakegen.manifest.references import DEFAULT_DOMAIN, normalize_reference

# The registry host of Docker Hub, whose image names start with docker.io.
DOCKER_HUB_HOST = "registry-1.docker.io"
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPT = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
TIMEOUT = 20.0  # seconds for each try of a request, its redirects and token fetch included
ATTEMPTS = 3  # tries of a request that could not connect, timed out, or got 5xx or 429
BACKOFF = 1.0  # seconds before the second try; doubled for each further one
MAX_BODY = 4 * 1024 * 1024  # a manifest, an index, an image config or a token answer
MAX_REDIRECTS = 5
SHOWN_TAGS = 10  # of an image whose tag is unknown
USER_AGENT = "bakegen-pin"


class RegistryError(Exception):
    """Resolving one image failed; the message is one line, without the image's name."""


class Unreachable(RegistryError):
    """A host did not answer within the tries: not asked again in the same run."""


@dataclass(frozen=True)
class Reference:
    """An image reference by tag: `debian:bookworm-slim` is docker.io, library/debian,
    bookworm-slim."""

    domain: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> Reference:
        domain, _, remainder = normalize_reference(text).partition("/")
        name, _, tag = remainder.partition(":")
        return cls(domain, name, tag or "latest")

    @property
    def host(self) -> str:
        """Where the registry answers (host[:port])."""
        return DOCKER_HUB_HOST if self.domain == DEFAULT_DOMAIN else self.domain

    def __str__(self) -> str:
        return f"{self.domain}/{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Resolved:
    """The digest a tag names and the platforms it serves (normalized, sorted)."""

    digest: str
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    url: str


def is_loopback(host: str) -> bool:
    """Whether `host` (without port, IPv6 without brackets) is this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostname(netloc: str) -> str:
    return urllib.parse.urlsplit(f"//{netloc}").hostname or netloc


def base_url(host: str) -> str:
    """The registry's URL: plain HTTP only on loopback."""
    return f"{'http' if is_loopback(_hostname(host)) else 'https'}://{host}"


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="x",service="y"` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in re.finditer(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))', rest)
    }
    return scheme.lower(), params


def _basic(creds: Credentials) -> str:
    return base64.b64encode(f"{creds.user}:{creds.password}".encode()).decode("ascii")


def malformed(host: str, what: str) -> RegistryError:
    """The error of an answer that is not what the distribution API gives, naming its host."""
    return RegistryError(f"malformed answer from {host}: {what}")


def host_of(response: Response) -> str:
    return urllib.parse.urlsplit(response.url).netloc


def _loads(body: bytes) -> object:
    """The JSON document `body` holds; ValueError when it holds none (not JSON, not UTF-8, or
    nested too deep to read)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("not JSON") from None


def _json(response: Response, what: str) -> dict[str, Any]:
    try:
        document = _loads(response.body)
    except ValueError:
        raise malformed(host_of(response), f"{what} is not JSON") from None
    if not isinstance(document, dict):
        raise malformed(host_of(response), f"{what} is not a JSON object")
    return document


def _digest(response: Response) -> str:
    digest = "sha256:" + hashlib.sha256(response.body).hexdigest()
    said = response.headers.get("docker-content-digest")
    if said and said.startswith("sha256:") and said != digest:
        raise malformed(
            host_of(response),
            f"the manifest's digest header {said[:19]}... does not match its content",
        )
    return digest


def _index_platforms(response: Response, index: dict[str, Any]) -> tuple[str, ...]:
    """The platforms an index serves; entries naming none (attestations, or names no platform
    can have) are left out."""
    entries = index.get("manifests")
    if not isinstance(entries, list):
        raise malformed(host_of(response), "the index has no list of manifests")
    found: set[str] = set()
    for entry in entries:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict) or platform.get("os") == "unknown":
            continue  # attestation manifests and the like
        served = served_platform(
            platform.get("os"), platform.get("architecture"), platform.get("variant")
        )
        if served is not None:
            found.add(served)
    return tuple(sorted(found))


def _error_codes(body: bytes) -> list[str]:
    try:
        document = _loads(body)
    except ValueError:
        return []
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return []
    return [
        str(e["code"]) for e in errors if isinstance(e, dict) and isinstance(e.get("code"), str)
    ]
