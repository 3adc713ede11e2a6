"""Signed fetches of this node's ActivityPub documents (authorized fetch).

A GET carrying an HTTP signature is verified, and one from a blocked host is
refused. With ``authorized_fetch`` on, an unsigned GET is refused too, so a
blocked host cannot read members' documents anonymously. The instance actor
stays readable by anyone: other servers need its key to verify our fetches.
"""

from __future__ import annotations

from aiohttp import web

from node.errors import Forbidden, Unauthorized
from node.federation.policy import host_allowed
from node.federation.remote_actors import RemoteActors
from node.typedefs import context_key
from protocol.httpsig import verify_request


async def check_fetch(request: web.Request) -> None:
    """Raise unless this request may read a non-public-bootstrap document."""
    ctx = request.app[context_key]
    signed = "Signature" in request.headers or "Signature-Input" in request.headers
    if not signed:
        if ctx.settings.authorized_fetch:
            raise Unauthorized("this node serves its documents to signed requests only")
        return
    actors = RemoteActors(ctx)
    verified = await verify_request(
        request.method,
        ctx.urls.base + request.path_qs,
        request.headers,
        None,
        key_resolver=actors.key_resolver,
        max_skew=ctx.settings.signature_max_skew,
    )
    signer = await actors.by_key_id(verified.key_id)
    async with ctx.storage.read() as session:
        if not await host_allowed(ctx, session, signer.host):
            raise Forbidden(f"this node does not serve {signer.host}")
