"""Client API for pooled pledges, and the pool documents other nodes fetch.

``/api/v1/listings/{id}/pool`` shows a pool's progress and outcome; members
pledge with ``POST .../pledges`` and withdraw with ``DELETE .../pledges/{id}``.
``/pools/{id}/outcome`` and ``/pledges/{id}`` serve the signed PoolOutcome and
Pledge as ActivityPub objects.
"""

from __future__ import annotations

from aiohttp import web

from node.errors import Gone, NotFound
from node.services import pool_views, pools
from node.typedefs import context_key
from node.web.activitypub import activity_response
from node.web.requests import optional_principal, read_json, require
from node.web.signed_fetch import check_fetch

routes = web.RouteTableDef()
_LISTING = "/api/v1/listings/{listing_id}"


@routes.get(f"{_LISTING}/pool")
async def show_pool(request: web.Request) -> web.Response:
    principal = await optional_principal(request)
    view = await pool_views.pool_view(
        request.app[context_key], request.match_info["listing_id"],
        principal.member if principal else None,
    )
    return web.json_response(view)


@routes.post(f"{_LISTING}/pledges")
async def make_pledge(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-pool-pledge-request")
    ctx = request.app[context_key]
    listing_id = request.match_info["listing_id"]
    pledge = await pools.pledge(
        ctx, principal.member, listing_id, body.get("amount"), body.get("message")
    )
    async with ctx.storage.read() as session:
        listing = await session.get_listing(listing_id)
    assert listing is not None
    response = web.json_response(
        pool_views.pledge_json(pledge, pools.pool_terms(listing)), status=201
    )
    response.headers["Location"] = f"/api/v1/listings/{listing_id}/pledges/{pledge.id}"
    return response


@routes.delete(f"{_LISTING}/pledges/{{pledge_id}}")
async def withdraw_pledge(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    ctx = request.app[context_key]
    listing_id = request.match_info["listing_id"]
    pledge = await pools.withdraw(
        ctx, principal.member, listing_id, request.match_info["pledge_id"]
    )
    async with ctx.storage.read() as session:
        listing = await session.get_listing(listing_id)
    assert listing is not None
    return web.json_response(pool_views.pledge_json(pledge, pools.pool_terms(listing)))


@routes.get("/pools/{listing_id}/outcome")
async def outcome_object(request: web.Request) -> web.Response:
    """The signed PoolOutcome of a pool of this node, once it has closed."""
    await check_fetch(request)
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        listing = await session.get_listing(request.match_info["listing_id"])
        pool = await session.get_pool(listing.iri) if listing is not None else None
    if pool is None or not pool.local or pool.outcome is None:
        raise NotFound("no closed pool here")
    return activity_response(pool.outcome)


@routes.get("/pledges/{pledge_id}")
async def pledge_object(request: web.Request) -> web.Response:
    """A signed Pledge made by a member of this node."""
    await check_fetch(request)
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        pledge = await session.get_pledge(request.match_info["pledge_id"])
    if pledge is None or pledge.member_id is None:
        raise NotFound("no such pledge")
    if pledge.state == "withdrawn":
        raise Gone("its author withdrew this pledge")
    return activity_response(pledge.document)
