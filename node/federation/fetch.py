"""Fetch one JSON document from another server: SSRF-checked, signed, bounded.

Redirects are followed here rather than by aiohttp, so that every target is
checked by :func:`~node.federation.ssrf.check_url` and the request is signed
again for it. Whatever goes wrong ends as one :class:`FetchError` whose
``reason`` names the check; nothing here turns into a 500 for a caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp
from yarl import URL

from node.errors import NodeError
from node.federation.http import FederationHttp
from node.federation.ssrf import UnsafeAddressError, check_url
from node.keys import load_rsa_private
from node.services.actors import LocalActor
from node.services.context import NodeContext
from protocol.errors import CanonicalizationError, LimitError
from protocol.httpsig import sign_request
from protocol.jsonparse import parse_json

__all__ = [
    "AP_ACCEPT",
    "AP_MEDIA_TYPES",
    "JRD_ACCEPT",
    "JRD_MEDIA_TYPES",
    "MAX_REDIRECTS",
    "FetchError",
    "FetchedJson",
    "fetch_document",
    "fetch_json",
]

AP_ACCEPT = (
    'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
)
#: Media types an ActivityPub document may be served as (any ``profile`` parameter).
AP_MEDIA_TYPES = frozenset({"application/activity+json", "application/ld+json"})
JRD_ACCEPT = "application/jrd+json, application/json"
#: Media types of WebFinger (RFC 7033 §10.2) and NodeInfo answers.
JRD_MEDIA_TYPES = frozenset({"application/jrd+json", "application/json"})
MAX_REDIRECTS = 3

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024


class FetchError(NodeError):
    """A remote document could not be fetched or is not acceptable.

    ``reason`` is one of ``unsafe-address``, ``unsafe-redirect``, ``timeout``,
    ``connection``, ``bad-status``, ``bad-content-type``, ``too-large``,
    ``malformed``, ``too-many-redirects``, or one added by callers
    (``invalid-document``, ``origin-mismatch``, ``key-mismatch``). ``status``
    is what a client of this node sees: 422 when the URL it gave is refused,
    404 or 410 when the remote says so, 504 for a timeout, 502 for every
    other upstream failure. ``upstream_status`` is the remote's HTTP status
    for ``bad-status``.
    """

    status = 502
    type_slug = "fetch-failed"
    title = "A remote document could not be fetched"

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        url: str,
        status: int | None = None,
        upstream_status: int | None = None,
    ) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason
        self.url = url
        self.upstream_status = upstream_status
        if status is not None:
            self.status = status
        elif reason == "timeout":
            self.status = 504
        elif self.is_missing:
            self.status = upstream_status or 502

    @property
    def is_missing(self) -> bool:
        """Whether the remote said the document does not exist (404 or 410)."""
        return self.reason == "bad-status" and self.upstream_status in (404, 410)

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed: timeouts, connection
        failures, 5xx and 429 answers. Everything else is the document's fault."""
        if self.reason in ("timeout", "connection"):
            return True
        status = self.upstream_status
        return self.reason == "bad-status" and (status is None or status >= 500 or status == 429)


@dataclass(frozen=True)
class FetchedJson:
    """A fetched JSON object and the URL it was finally served from."""

    url: str
    document: dict[str, Any]


async def fetch_json(
    source: NodeContext | FederationHttp,
    url: str,
    *,
    signer: LocalActor | None,
    json_ok: bool = False,
    accept: str | None = None,
    allowed_types: Collection[str] | None = None,
) -> dict[str, Any]:
    """Fetch the JSON object at ``url``; see :func:`fetch_document`."""
    fetched = await fetch_document(
        source, url, signer=signer, json_ok=json_ok, accept=accept, allowed_types=allowed_types
    )
    return fetched.document


async def fetch_document(
    source: NodeContext | FederationHttp,
    url: str,
    *,
    signer: LocalActor | None,
    json_ok: bool = False,
    accept: str | None = None,
    allowed_types: Collection[str] | None = None,
) -> FetchedJson:
    """GET ``url`` and return the JSON object it serves, with the final URL.

    ``source`` is the node context (its open client is used) or the client.
    ActivityPub media types are asked for and accepted unless ``json_ok``
    (WebFinger, NodeInfo: ``application/json`` and ``application/jrd+json``);
    ``accept`` and ``allowed_types`` override either. With a ``signer`` the
    request carries a draft-cavage signature by its RSA key (authorized
    fetch). Up to :data:`MAX_REDIRECTS` redirects are
    followed, each target checked and signed again. The response must be 2xx,
    of a media type in ``allowed_types``, at most ``http.max_response_bytes``
    long (read as a stream, abandoned past the cap) and an I-JSON object. The
    whole exchange, redirects included, is bounded by ``http.total_timeout``.
    Raises :class:`FetchError`.
    """
    http = source if isinstance(source, FederationHttp) else source.require_http()
    if accept is None:
        accept = JRD_ACCEPT if json_ok else AP_ACCEPT
    if allowed_types is None:
        allowed_types = JRD_MEDIA_TYPES if json_ok else AP_MEDIA_TYPES
    try:
        async with asyncio.timeout(http.total_timeout):
            return await _follow(http, url, signer, accept, frozenset(allowed_types))
    except TimeoutError:
        raise FetchError(
            "timeout", f"{url} did not answer within {http.total_timeout:g} s", url=url
        ) from None


async def _follow(
    http: FederationHttp,
    url: str,
    signer: LocalActor | None,
    accept: str,
    allowed_types: frozenset[str],
) -> FetchedJson:
    current = _checked(http, url, redirected=False)
    for hop in range(MAX_REDIRECTS + 1):
        headers = _request_headers(current, signer, accept)
        try:
            async with http.session.get(
                URL(current, encoded=True), headers=headers, allow_redirects=False
            ) as response:
                if response.status not in _REDIRECT_STATUSES:
                    document = await _read_json(response, current, allowed_types, http)
                    return FetchedJson(url=current, document=document)
                location = response.headers.get("Location")
        except UnsafeAddressError as exc:
            # The resolver refused the host's addresses.
            raise _unsafe(exc, current, redirected=hop > 0) from None
        except aiohttp.ClientError as exc:
            raise FetchError(
                "connection", f"{current}: {type(exc).__name__}: {exc}", url=current
            ) from None
        if not location:
            raise FetchError(
                "bad-status", f"{current} redirected without a Location", url=current,
                upstream_status=response.status,
            )
        current = _checked(http, urljoin(current, location), redirected=True)
    raise FetchError(
        "too-many-redirects", f"{url} redirected more than {MAX_REDIRECTS} times", url=url
    )


def _checked(http: FederationHttp, url: str, *, redirected: bool) -> str:
    """The URL as it will be sent and signed, or a FetchError if it is refused."""
    try:
        safe = check_url(url, allow_private=http.allow_private)
        # yarl's quoting is what aiohttp sends; sign exactly that.
        return str(URL(safe))
    except UnsafeAddressError as exc:
        raise _unsafe(exc, url, redirected=redirected) from None
    except ValueError as exc:
        raise _unsafe(UnsafeAddressError(str(exc)), url, redirected=redirected) from None


def _unsafe(exc: UnsafeAddressError, url: str, *, redirected: bool) -> FetchError:
    # A URL our own client handed in is its mistake (422); a redirect there is
    # the remote's doing, so the client sees an upstream failure (502).
    if redirected:
        return FetchError("unsafe-redirect", f"redirect refused: {exc.detail}", url=url)
    return FetchError("unsafe-address", exc.detail, url=url, status=422)


def _request_headers(url: str, signer: LocalActor | None, accept: str) -> dict[str, str]:
    headers = {"Accept": accept}
    if signer is None:
        return headers
    return sign_request(
        "GET",
        url,
        headers,
        None,
        key_id=signer.rsa_key_id,
        private_key=load_rsa_private(signer.rsa_private_pem),
        scheme="cavage",
    )


async def _read_json(
    response: aiohttp.ClientResponse,
    url: str,
    allowed_types: frozenset[str],
    http: FederationHttp,
) -> dict[str, Any]:
    if not 200 <= response.status < 300:
        raise FetchError(
            "bad-status", f"{url} answered {response.status}", url=url,
            upstream_status=response.status,
        )
    media_type = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if media_type not in allowed_types:
        wanted = ", ".join(sorted(allowed_types))
        raise FetchError(
            "bad-content-type",
            f"{url} served {media_type or 'no content type'}, expected one of {wanted}",
            url=url,
        )
    cap = http.max_response_bytes
    too_large = FetchError("too-large", f"{url} served more than {cap} bytes", url=url)
    if response.content_length is not None and response.content_length > cap:
        raise too_large
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        body += chunk
        if len(body) > cap:
            raise too_large
    try:
        document = parse_json(bytes(body), max_bytes=cap)
    except LimitError as exc:
        raise FetchError("too-large", f"{url}: {exc.detail}", url=url) from None
    except CanonicalizationError as exc:
        raise FetchError("malformed", f"{url}: {exc.detail}", url=url) from None
    if not isinstance(document, dict):
        raise FetchError("malformed", f"{url} did not serve a JSON object", url=url)
    return document
