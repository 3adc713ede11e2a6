"""Client API: listings."""

from __future__ import annotations

from aiohttp import web

from node.errors import ValidationFailed
from node.services import accounts, listings
from node.typedefs import context_key
from node.web.representations import listing_json
from node.web.requests import read_json, require

routes = web.RouteTableDef()


@routes.post("/api/v1/listings")
async def create_listing(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-listing-create-request")
    ctx = request.app[context_key]
    listing = await listings.create_listing(ctx, principal.member, body)
    response = web.json_response(listing_json(ctx, listing), status=201)
    response.headers["Location"] = f"/api/v1/listings/{listing.id}"
    return response


@routes.get("/api/v1/listings/{listing_id}")
async def show_listing(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    listing = await listings.get_listing(ctx, request.match_info["listing_id"])
    return web.json_response(listing_json(ctx, listing))


@routes.patch("/api/v1/listings/{listing_id}")
async def update_listing(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-listing-update-request")
    ctx = request.app[context_key]
    listing = await listings.update_listing(
        ctx, principal.member, request.match_info["listing_id"], body
    )
    return web.json_response(listing_json(ctx, listing))


@routes.post("/api/v1/listings/{listing_id}/withdrawal")
async def withdraw_listing(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    ctx = request.app[context_key]
    listing = await listings.withdraw_listing(
        ctx, principal.member, request.match_info["listing_id"]
    )
    return web.json_response(listing_json(ctx, listing))


@routes.delete("/api/v1/listings/{listing_id}")
async def delete_listing(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    await listings.delete_listing(
        request.app[context_key], principal.member, request.match_info["listing_id"]
    )
    return web.Response(status=204)


@routes.get("/api/v1/listings/{listing_id}/replies")
async def listing_replies(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    listing = await listings.get_listing(ctx, request.match_info["listing_id"])
    async with ctx.storage.read() as session:
        replies = await session.list_replies(listing.seq, include_hidden=False)
    return web.json_response({"items": [
        {"iri": r.iri, "author": r.author_iri, "content": r.content, "published": r.published}
        for r in replies
    ]})


@routes.get("/api/v1/members/{username}/listings")
async def member_listings(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    member = await accounts.get_member_by_username(ctx, request.match_info["username"])
    before = request.query.get("cursor")
    # isdigit() alone admits "²", which int() refuses; SQLite integers stop at 2**63.
    if before is not None and not (before.isascii() and before.isdigit() and len(before) <= 18):
        raise ValidationFailed(
            "cursor must be a value from next_cursor",
            errors=[{"pointer": "/cursor", "reason": "malformed"}],
        )
    limit = 20
    async with ctx.storage.read() as session:
        found = await session.list_member_listings(
            member.id, before_seq=int(before) if before else None, limit=limit + 1
        )
    more = len(found) > limit
    found = found[:limit]
    return web.json_response(
        {
            "items": [listing_json(ctx, listing) for listing in found],
            "next_cursor": str(found[-1].seq) if more else None,
        }
    )
