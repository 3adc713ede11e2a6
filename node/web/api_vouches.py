"""Client API: vouches ("I know this person")."""

from __future__ import annotations

from aiohttp import web

from node.services import accounts, vouches
from node.typedefs import context_key
from node.web.requests import read_json, require

routes = web.RouteTableDef()


@routes.post("/api/v1/vouches")
async def vouch(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-vouch-request")
    record = await vouches.issue(request.app[context_key], principal.member, body["subject"])
    return web.json_response(vouches.vouch_json(record), status=201)


@routes.delete("/api/v1/vouches/{vouch_id}")
async def revoke(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    await vouches.revoke(request.app[context_key], principal.member, request.match_info["vouch_id"])
    return web.Response(status=204)


@routes.get("/api/v1/members/{username}/vouches")
async def member_vouches(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    member = await accounts.get_member_by_username(ctx, request.match_info["username"])
    received, given = await vouches.of_member(ctx, member)
    return web.json_response({
        "received": [vouches.vouch_json(record) for record in received],
        "given": [vouches.vouch_json(record) for record in given],
    })
