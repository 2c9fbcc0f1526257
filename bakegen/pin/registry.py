"""The OCI distribution client of `bakegen pin`: an image tag to its digest."""

from __future__ import annotations

import hashlib
import http.client
import re
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bakegen.manifest.platforms import normalize_platform
from bakegen.pin.oci import (
    ACCEPT,
    ATTEMPTS,
    BACKOFF,
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_BODY,
    MAX_REDIRECTS,
    SHOWN_TAGS,
    TIMEOUT,
    USER_AGENT,
    Credentials,
    Reference,
    RegistryError,
    Resolved,
    Response,
    Unreachable,
    _basic,
    _digest,
    _error_codes,
    _index_platforms,
    _json,
    base_url,
    is_loopback,
    parse_challenge,
)


class Client:
    """Speaks to registries for one run; tokens are kept per registry and repository."""

    def __init__(
        self,
        credentials: Mapping[str, Credentials] | None = None,
        *,
        timeout: float = TIMEOUT,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = dict(credentials or {})
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self._auth: dict[tuple[str, str], str] = {}
        self._down: dict[str, str] = {}  # host -> why it could not be reached in this run
        self._context = ssl.create_default_context()

    # -- resolving -----------------------------------------------------------------------------

    def resolve(self, ref: Reference, platforms: Sequence[str]) -> Resolved:
        """The digest `ref`'s tag names now; every one of `platforms` must be served by it."""
        path = f"/v2/{ref.repository}/manifests/{urllib.parse.quote(ref.tag, safe='')}"
        response = self._get(ref, path, ACCEPT)
        if response.status == 404:
            raise RegistryError(self._not_found(ref, response))
        self._expect_ok(ref, response)
        digest = _digest(response)
        document = _json(response.body, "the manifest")
        media = str(document.get("mediaType") or response.headers.get("content-type", ""))
        media = media.split(";", maxsplit=1)[0].strip()
        if media in INDEX_TYPES or (not media and "manifests" in document):
            served = _index_platforms(document)
        elif media in MANIFEST_TYPES or (not media and "config" in document):
            served = (self._config_platform(ref, document),)
        else:
            raise RegistryError(
                f"malformed response: {ref} is a '{media or 'unknown'}', "
                "neither an image manifest nor an index"
            )
        wanted = {normalize_platform(p) for p in platforms}
        missing = sorted(wanted - set(served))
        if missing:
            has = ", ".join(served) or "none"
            raise RegistryError(
                f"the tag names {digest[:19]}..., which has no {', '.join(missing)} image "
                f"(it has {has}); build it for fewer platforms or choose another tag"
            )
        return Resolved(digest, tuple(sorted(set(served))))

    def _config_platform(self, ref: Reference, manifest: dict[str, Any]) -> str:
        config = manifest.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not re.fullmatch(r"sha256:[a-f0-9]{64}", digest):
            raise RegistryError("malformed response: the image manifest has no config digest")
        response = self._get(ref, f"/v2/{ref.repository}/blobs/{digest}", "*/*")
        if response.status == 404:
            raise RegistryError(f"{ref}: the image config {digest[:19]}... is missing (404)")
        self._expect_ok(ref, response)
        if "sha256:" + hashlib.sha256(response.body).hexdigest() != digest:
            raise RegistryError("malformed response: the image config does not match its digest")
        document = _json(response.body, "the image config")
        os_name, arch = document.get("os"), document.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
            raise RegistryError("malformed response: the image config names no os/architecture")
        variant = document.get("variant")
        return normalize_platform(
            "/".join([os_name, arch, *([variant] if isinstance(variant, str) and variant else [])])
        )

    def _not_found(self, ref: Reference, response: Response) -> str:
        """Which is unknown, the image or its tag (the tag list tells), and what to do."""
        where = f"{ref.domain}/{ref.repository}"
        codes = _error_codes(response.body)
        tags: list[str] | None = None
        if "NAME_UNKNOWN" not in codes:
            listed = self._get(ref, f"/v2/{ref.repository}/tags/list?n={SHOWN_TAGS}", "*/*")
            if listed.status == 200:
                found = _json(listed.body, "the tag list").get("tags")
                tags = [str(t) for t in found] if isinstance(found, list) else []
            elif listed.status == 404:
                codes = ["NAME_UNKNOWN"]
        if "NAME_UNKNOWN" in codes:
            return f"no image {where} at {ref.host} (404); check the name"
        more = ", ..." if tags and len(tags) >= SHOWN_TAGS else ""
        some = f" (it has {', '.join(tags)}{more})" if tags else ""
        return f"no tag '{ref.tag}' in {where} (404); check the tag{some}"

    def _expect_ok(self, ref: Reference, response: Response) -> None:
        if response.status == 200:
            return
        if response.status in (401, 403):
            raise RegistryError(self._refused(ref, response.status))
        codes = _error_codes(response.body)
        said = f" {', '.join(codes)}" if codes else ""
        raise RegistryError(f"{ref.host} answered {response.status}{said} for {ref}")

    def _refused(self, ref: Reference, status: int) -> str:
        what = "unauthorized" if status == 401 else "forbidden"
        if ref.domain in self.credentials:
            return (
                f"{status} {what} at {ref.host} with the credentials given; check them and "
                f"that they may pull {ref.domain}/{ref.repository}"
            )
        return (
            f"{status} {what} at {ref.host}: the image does not exist or needs credentials "
            f"(name their environment variables under base_registries.{ref.domain})"
        )

    # -- requests with authentication --------------------------------------------------------

    def _get(self, ref: Reference, path: str, accept: str) -> Response:
        key = (ref.host, ref.repository)
        url = base_url(ref.host) + path
        headers = {"Accept": accept}
        if key in self._auth:
            headers["Authorization"] = self._auth[key]
        response = self._request(url, headers)
        if response.status != 401:
            return response
        scheme, params = parse_challenge(response.headers.get("www-authenticate", ""))
        creds = self.credentials.get(ref.domain)
        if scheme == "bearer" and params.get("realm"):
            authorization = "Bearer " + self._token(ref, params, creds)
        elif scheme == "basic" and creds is not None:
            authorization = "Basic " + _basic(creds)
        else:
            return response
        if headers.get("Authorization") == authorization:
            return response
        self._auth[key] = authorization
        headers["Authorization"] = authorization
        return self._request(url, headers)

    def _token(self, ref: Reference, params: dict[str, str], creds: Credentials | None) -> str:
        realm = params["realm"]
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RegistryError(f"malformed response: {ref.host} names token service '{realm}'")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise RegistryError(
                f"{ref.host} names a token service over plain HTTP ({realm}); refused"
            )
        query = [(k, params[k]) for k in ("service",) if params.get(k)]
        query.append(("scope", params.get("scope") or f"repository:{ref.repository}:pull"))
        sep = "&" if parts.query else "?"
        url = realm + sep + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if creds is not None:
            headers["Authorization"] = "Basic " + _basic(creds)
        response = self._request(url, headers)
        if response.status in (401, 403):
            if creds is None:
                raise RegistryError(
                    f"the token service of {ref.host} refused an anonymous pull ({response.status}); "
                    f"name credentials under base_registries.{ref.domain}"
                )
            raise RegistryError(
                f"the token service of {ref.host} refused the credentials ({response.status})"
            )
        if response.status != 200:
            raise RegistryError(f"the token service of {ref.host} answered {response.status}")
        document = _json(response.body, "the token service's answer")
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token or not token.isprintable():
            raise RegistryError(
                f"malformed response: the token service of {ref.host} gave no token"
            )
        return token

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, url: str, headers: Mapping[str, str]) -> Response:
        """GET `url`, following redirects; a retry for failures that may pass."""
        origin = urllib.parse.urlsplit(url).netloc
        sent = dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._attempts(url, sent)
            if response.status not in (301, 302, 303, 307, 308):
                return response
            location = response.headers.get("location")
            if not location:
                raise RegistryError(f"malformed response: a redirect without a place from {url}")
            url = urllib.parse.urljoin(url, location)
            target = urllib.parse.urlsplit(url)
            if target.scheme == "http" and not is_loopback(target.hostname or ""):
                raise RegistryError(f"a redirect to plain HTTP ({target.netloc}); refused")
            if target.scheme not in ("http", "https"):
                raise RegistryError(f"a redirect to '{target.scheme}:'; refused")
            if target.netloc != origin:  # credentials stay with the host they are for
                sent.pop("Authorization", None)
        raise RegistryError(f"more than {MAX_REDIRECTS} redirects from {origin}")

    def _attempts(self, url: str, headers: Mapping[str, str]) -> Response:
        """`_tries`, once per host: a host that could not be reached is not tried again."""
        host = urllib.parse.urlsplit(url).netloc
        if host in self._down:
            raise Unreachable(self._down[host])
        try:
            return self._tries(url, headers)
        except Unreachable as exc:
            self._down[host] = str(exc)
            raise

    def _tries(self, url: str, headers: Mapping[str, str]) -> Response:
        host = urllib.parse.urlsplit(url).netloc
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self._once(url, headers)
            except TimeoutError:
                if last:
                    raise Unreachable(
                        f"no answer from {host} within {self.timeout:g} s "
                        f"({self.attempts} tries); is the registry up?"
                    ) from None
            except ssl.SSLError as exc:
                raise RegistryError(f"TLS with {host} failed: {exc.reason or exc}") from None
            except (OSError, http.client.HTTPException) as exc:
                if last:
                    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                    raise Unreachable(
                        f"cannot reach {host}: {reason} ({self.attempts} tries); "
                        "is the registry up?"
                    ) from None
            else:
                if response.status < 500 and response.status != 429:
                    return response
                if last:
                    return response
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, url: str, headers: Mapping[str, str]) -> Response:
        parts = urllib.parse.urlsplit(url)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.netloc, timeout=self.timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(parts.netloc, timeout=self.timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target or "/", headers={**headers, "User-Agent": USER_AGENT})
            raw = connection.getresponse()
            body = raw.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise RegistryError(
                    f"malformed response: more than {MAX_BODY // 1024 // 1024} MiB from {url}"
                )
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, body, url)
        finally:
            connection.close()
