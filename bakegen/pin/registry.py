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

from bakegen.manifest.platforms import normalize_platform, served_platform
from bakegen.pin import transport
from bakegen.pin.oci import (
    ACCEPT,
    ATTEMPTS,
    BACKOFF,
    INDEX_TYPES,
    MANIFEST_TYPES,
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
    host_of,
    is_loopback,
    malformed,
    parse_challenge,
)
from bakegen.pin.transport import Deadline


class _Again(Exception):
    """A try of a request that failed in a way another try may not: `error` is what to say
    after the last try, `response` (a 5xx or 429 answer) what to give back instead; `host`,
    when set, could not be reached."""

    def __init__(
        self, error: RegistryError, response: Response | None = None, host: str | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.response = response
        self.host = host


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
        document = _json(response, "the manifest")
        media = document.get("mediaType")
        if not isinstance(media, str) or not media:
            media = response.headers.get("content-type", "")
        media = media.split(";", maxsplit=1)[0].strip()
        if media in INDEX_TYPES or (not media and "manifests" in document):
            served = _index_platforms(response, document)
        elif media in MANIFEST_TYPES or (not media and "config" in document):
            served = (self._config_platform(ref, response, document),)
        else:
            raise malformed(
                host_of(response),
                f"{ref} is a '{media or 'unknown'}', neither an image manifest nor an index",
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

    def _config_platform(self, ref: Reference, answer: Response, manifest: dict[str, Any]) -> str:
        config = manifest.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not re.fullmatch(r"sha256:[a-f0-9]{64}", digest):
            raise malformed(host_of(answer), "the image manifest has no config digest")
        response = self._get(ref, f"/v2/{ref.repository}/blobs/{digest}", "*/*")
        if response.status == 404:
            raise RegistryError(f"{ref}: the image config {digest[:19]}... is missing (404)")
        self._expect_ok(ref, response)
        if "sha256:" + hashlib.sha256(response.body).hexdigest() != digest:
            raise malformed(host_of(response), "the image config does not match its digest")
        document = _json(response, "the image config")
        platform = served_platform(
            document.get("os"), document.get("architecture"), document.get("variant")
        )
        if platform is None:
            raise malformed(
                host_of(response), "the image config names no platform like linux/amd64"
            )
        return platform

    def _not_found(self, ref: Reference, response: Response) -> str:
        """Which is unknown, the image or its tag (the tag list tells), and what to do."""
        where = f"{ref.domain}/{ref.repository}"
        codes = _error_codes(response.body)
        tags: list[str] | None = None
        if "NAME_UNKNOWN" not in codes:
            listed = self._get(ref, f"/v2/{ref.repository}/tags/list?n={SHOWN_TAGS}", "*/*")
            if listed.status == 200:
                found = _json(listed, "the tag list").get("tags")
                tags = [t for t in found if isinstance(t, str)] if isinstance(found, list) else []
            elif listed.status == 404:
                codes = ["NAME_UNKNOWN"]
        if "NAME_UNKNOWN" in codes:
            return f"no image {where} at {ref.host} (404); check the name"
        more = ", ..." if tags and len(tags) >= SHOWN_TAGS else ""
        some = f" (it has {', '.join(tags[:SHOWN_TAGS])}{more})" if tags else ""
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

    # -- requests: tries, each under a deadline ----------------------------------------------

    def _get(self, ref: Reference, path: str, accept: str) -> Response:
        """One request of the registry API, tried up to `attempts` times; each try, with its
        redirects and the token fetch of an auth challenge, has `timeout` seconds in all."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return self._exchange(ref, path, accept, Deadline(self.timeout))
            except _Again as again:
                if attempt < self.attempts:
                    self.sleep(delay)
                    delay *= 2
                    continue
                if again.response is not None:
                    return again.response
                if again.host is not None:
                    self._down[again.host] = str(again.error)
                raise again.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, ref: Reference, path: str, accept: str, deadline: Deadline) -> Response:
        """One try: the request, and again with authorization when it is challenged."""
        key = (ref.host, ref.repository)
        url = base_url(ref.host) + path
        headers = {"Accept": accept}
        if key in self._auth:
            headers["Authorization"] = self._auth[key]
        response = self._follow(url, headers, deadline)
        if response.status != 401:
            return _retried(response)
        scheme, params = parse_challenge(response.headers.get("www-authenticate", ""))
        creds = self.credentials.get(ref.domain)
        if scheme == "bearer" and params.get("realm"):
            authorization = "Bearer " + self._token(ref, params, creds, deadline)
        elif scheme == "basic" and creds is not None:
            authorization = "Basic " + _basic(creds)
        else:
            return response
        if headers.get("Authorization") == authorization:
            return response
        self._auth[key] = authorization
        headers["Authorization"] = authorization
        return _retried(self._follow(url, headers, deadline))

    def _token(
        self,
        ref: Reference,
        params: dict[str, str],
        creds: Credentials | None,
        deadline: Deadline,
    ) -> str:
        realm = params["realm"]
        parts = _url(realm, ref.host, "names a token service")
        if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
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
        response = self._follow(url, headers, deadline)
        if response.status >= 500 or response.status == 429:
            error = RegistryError(f"the token service of {ref.host} answered {response.status}")
            raise _Again(error)
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
        document = _json(response, "the token service's answer")
        token = document.get("token") or document.get("access_token")
        if (
            not isinstance(token, str)
            or not token
            or not token.isascii()
            or not token.isprintable()
        ):
            raise malformed(host_of(response), "the token service gave no token")
        return token

    # -- HTTP ----------------------------------------------------------------------------------

    def _follow(self, url: str, headers: Mapping[str, str], deadline: Deadline) -> Response:
        """GET `url`, following redirects, all before `deadline`."""
        origin = urllib.parse.urlsplit(url).netloc
        sent = dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._fetch(url, sent, deadline)
            if response.status not in (301, 302, 303, 307, 308):
                return response
            location = response.headers.get("location")
            if not location:
                raise malformed(host_of(response), "a redirect without a place")
            target = _url(location, host_of(response), "redirects", base=url)
            url = target.geturl()
            if target.scheme == "http" and not is_loopback(target.hostname or ""):
                raise RegistryError(f"a redirect to plain HTTP ({target.netloc}); refused")
            if target.netloc != origin:  # credentials stay with the host they are for
                sent.pop("Authorization", None)
        raise RegistryError(f"more than {MAX_REDIRECTS} redirects from {origin}")

    def _fetch(self, url: str, headers: Mapping[str, str], deadline: Deadline) -> Response:
        """One GET; a host that could not be reached in this run is not asked again."""
        host = urllib.parse.urlsplit(url).netloc
        if host in self._down:
            raise Unreachable(self._down[host])
        tries = f"({self.attempts} tries); is the registry up?"
        try:
            return transport.get(
                url, {**headers, "User-Agent": USER_AGENT}, deadline, self._context
            )
        except TimeoutError:
            message = f"no answer from {host} within {self.timeout:g} s {tries}"
            raise _Again(Unreachable(message), host=host) from None
        except ssl.SSLError as exc:
            raise RegistryError(f"TLS with {host} failed: {exc.reason or exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise _Again(Unreachable(f"cannot reach {host}: {reason} {tries}"), host=host) from None
        except ValueError:
            raise malformed(host, "an answer HTTP cannot read") from None


def _retried(response: Response) -> Response:
    """`response`, unless it is one to try again (5xx, 429)."""
    if response.status >= 500 or response.status == 429:
        raise _Again(RegistryError(f"answered {response.status}"), response)
    return response


def _url(text: str, host: str, what: str, base: str = "") -> urllib.parse.SplitResult:
    """The http(s) URL `text` (relative to `base`), or a malformed answer from `host`."""
    try:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(base, text) if base else text)
        _ = parts.port  # a port that is not a number raises
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not text.isascii()
        or not text.isprintable()
        or " " in text
    ):
        raise malformed(host, f"{what} '{text[:80]}', which is no http(s) URL")
    return parts
