"""Client API: following members and communities here and on other nodes,
follow requests, and looking up remote actors and listings."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import NotFound, ValidationFailed
from node.federation import lookup
from node.services import follows
from node.services.actors import member_actor
from node.storage.records import Follow
from node.typedefs import context_key
from node.web.representations import listing_json
from node.web.requests import read_json, require

routes = web.RouteTableDef()


def follow_json(record: Follow) -> dict[str, Any]:
    return {
        "id": record.id,
        "follower": record.follower_iri,
        "followee": record.followee_iri,
        "state": record.state,
        "created_at": record.created_at,
    }


@routes.post("/api/v1/follows")
async def create_follow(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-follow-request")
    ctx = request.app[context_key]
    target = await lookup.resolve_actor_iri(ctx, body["target"])
    record = await follows.follow(ctx, member_actor(ctx, principal.member), target)
    return web.json_response(follow_json(record), status=201)


async def _own_follows(request: web.Request, side: str) -> web.Response:
    """The caller's follows where they are ``side`` (follower or followee)."""
    principal = await require(request, "read")
    ctx = request.app[context_key]
    iri = ctx.urls.actor(principal.member.username)
    async with ctx.storage.read() as session:
        found = await session.list_follows(**{f"{side}_iri": iri}, state=None, limit=1000)
    return web.json_response({"items": [follow_json(f) for f in found]})


@routes.get("/api/v1/following")
async def list_following(request: web.Request) -> web.Response:
    return await _own_follows(request, "follower")


@routes.get("/api/v1/followers")
async def list_followers(request: web.Request) -> web.Response:
    return await _own_follows(request, "followee")


@routes.delete("/api/v1/follows/{follow_id}")
async def delete_follow(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    ctx = request.app[context_key]
    local = member_actor(ctx, principal.member)
    async with ctx.storage.read() as session:
        record = await session.get_follow_by_id(request.match_info["follow_id"])
    if record is None or record.follower_iri != local.iri:
        raise NotFound("no such follow of yours")
    await follows.unfollow(ctx, local, record.followee_iri)
    return web.Response(status=204)


async def _decide(request: web.Request, accept: bool) -> web.Response:
    principal = await require(request, "write")
    ctx = request.app[context_key]
    record = await follows.decide_follow_request(
        ctx, member_actor(ctx, principal.member), request.match_info["follow_id"], accept
    )
    return web.json_response(follow_json(record))


@routes.post("/api/v1/follow-requests/{follow_id}/accept")
async def accept_follow_request(request: web.Request) -> web.Response:
    return await _decide(request, True)


@routes.post("/api/v1/follow-requests/{follow_id}/reject")
async def reject_follow_request(request: web.Request) -> web.Response:
    return await _decide(request, False)


@routes.get("/api/v1/lookup/actor")
async def lookup_actor(request: web.Request) -> web.Response:
    await require(request, "read")
    resource = request.query.get("resource", "")
    if not resource:
        raise ValidationFailed("the 'resource' query parameter (a handle or IRI) is required")
    profile = await lookup.actor_profile(request.app[context_key], resource)
    return web.json_response(profile)


@routes.get("/api/v1/lookup/listing")
async def lookup_listing(request: web.Request) -> web.Response:
    await require(request, "read")
    iri = request.query.get("iri", "")
    if not iri:
        raise ValidationFailed("the 'iri' query parameter is required")
    ctx = request.app[context_key]
    listing = await lookup.remote_listing(ctx, iri)
    return web.json_response(listing_json(ctx, listing))
