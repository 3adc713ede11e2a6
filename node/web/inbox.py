"""Inbox endpoints (shared and per actor). Thin: the federation layer decides."""

from __future__ import annotations

import json
from functools import lru_cache

from aiohttp import web

from node.errors import UnsupportedMediaType
from node.federation import inbox
from node.services import actors
from node.typedefs import context_key, settings_key
from node.web.requests import read_body

routes = web.RouteTableDef()
_ACTIVITY_TYPES = {"application/activity+json", "application/ld+json", "application/json"}


async def _receive(request: web.Request) -> web.Response:
    if request.content_type not in _ACTIVITY_TYPES:
        raise UnsupportedMediaType("post activities as application/activity+json")
    ctx = request.app[context_key]
    body = await read_body(request, request.app[settings_key].max_body_bytes)
    accepted = await inbox.receive(
        ctx,
        method=request.method,
        url=ctx.urls.base + request.path_qs,
        headers=request.headers,
        body=body,
    )
    return web.Response(
        body=_accepted_body(accepted.activity_type), status=202, content_type="application/json"
    )


# One body per activity type, encoded once: the inbox answers thousands a second.
@lru_cache(maxsize=64)
def _accepted_body(activity_type: str) -> bytes:
    return json.dumps({"status": "accepted", "type": activity_type}).encode()


@routes.post("/inbox")
async def shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request)


@routes.post("/users/{username}/inbox")
async def actor_inbox(request: web.Request) -> web.Response:
    # 404 for an inbox nobody owns, before reading anything.
    ctx = request.app[context_key]
    await actors.actor_document_by_username(ctx, request.match_info["username"])
    return await _receive(request)
