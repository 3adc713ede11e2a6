"""WebFinger client (RFC 7033): turn a handle like ``name@host`` into an actor IRI."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from node.errors import BadRequest, NotFound
from node.federation.fetch import FetchError, fetch_json
from node.federation.ssrf import UnsafeAddressError, check_url
from node.services.actors import local_actor_by_iri
from node.services.context import NodeContext

__all__ = ["parse_handle", "resolve_handle"]

# RFC 7565 allows more in the user part; these are the characters fediverse
# usernames actually use, and they need no escaping anywhere.
_USER = re.compile(r"^[A-Za-z0-9_.~+-]{1,128}$")
_SELF_TYPES = ("application/activity+json", "application/ld+json")


def parse_handle(handle: str) -> tuple[str, str]:
    """Split ``name@host``, ``@name@host`` or ``acct:name@host`` into (name, host).

    The host (with an optional port) is lower-cased. Raises
    :class:`BadRequest` when the handle is malformed.
    """
    text = handle.strip() if isinstance(handle, str) else ""
    text = text.removeprefix("acct:").removeprefix("@")
    user, at, host = text.rpartition("@")
    if not at or not _USER.match(user) or not host or "/" in host or "@" in host:
        raise BadRequest(f"{handle!r} is not a handle like name@host")
    try:
        check_url(f"http://{host}/", allow_private=True)
    except UnsafeAddressError as exc:
        raise BadRequest(f"{handle!r} has an invalid host: {exc.detail}") from None
    return user, host.lower()


async def resolve_handle(ctx: NodeContext, handle: str) -> str:
    """The actor IRI a handle names, asked of its host's WebFinger endpoint.

    Handles on this node are answered from the database. Remote hosts are
    asked over ``https``, or plain ``http`` in development mode, where test
    nodes listen on loopback without TLS. Raises :class:`BadRequest` for a
    malformed handle, :class:`NotFound` when the account or its ActivityPub
    link does not exist, and :class:`FetchError` when the host cannot be asked.
    """
    user, host = parse_handle(handle)
    if host == ctx.settings.public_host.lower():
        return await _local_actor(ctx, user, host)
    scheme = "http" if ctx.settings.development else "https"
    query = urlencode({"resource": f"acct:{user}@{host}"})
    url = f"{scheme}://{host}/.well-known/webfinger?{query}"
    try:
        jrd = await fetch_json(ctx, url, signer=None, json_ok=True)
    except FetchError as exc:
        if exc.is_missing:
            raise NotFound(f"{host} knows no account {user!r}") from None
        raise
    for link in jrd.get("links") or []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        media_type = link.get("type")
        href = link.get("href")
        if (isinstance(media_type, str) and media_type.startswith(_SELF_TYPES)
                and isinstance(href, str)):
            try:
                check_url(href, allow_private=ctx.require_http().allow_private)
            except UnsafeAddressError as exc:
                raise FetchError(
                    "unsafe-address", f"{host} points {handle!r} at {exc.detail}", url=url
                ) from None
            return href
    raise NotFound(f"{host} lists no ActivityPub actor for {user!r}")


async def _local_actor(ctx: NodeContext, user: str, host: str) -> str:
    if user == host:  # the instance actor's handle, as the WebFinger endpoint answers it
        return ctx.urls.instance_actor
    iri = ctx.urls.actor(user)
    if await local_actor_by_iri(ctx, iri) is None:
        raise NotFound(f"no account {user!r} on this node")
    return iri
