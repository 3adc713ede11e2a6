"""ActivityPub documents: actors, outboxes, collections, listings and activities.

Object IRIs answer ``application/activity+json`` and
``application/ld+json; profile="https://www.w3.org/ns/activitystreams"``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from node.errors import Gone, NotFound, ValidationFailed
from node.services import actors
from node.typedefs import context_key
from node.web.pages.listing_view import listing_page
from node.web.pages.profiles import profile_page
from node.web.pages.site import wants_html
from node.web.signed_fetch import check_fetch
from protocol import builders

routes = web.RouteTableDef()
ACTIVITY_JSON = "application/activity+json"
PAGE_SIZE = 20


def activity_response(document: dict[str, Any], *, status: int = 200) -> web.Response:
    response = web.Response(
        status=status,
        text=json.dumps(document, ensure_ascii=False),
        content_type=ACTIVITY_JSON,
    )
    response.headers["Vary"] = "Accept"
    return response


@routes.get("/users/{username}")
async def actor(request: web.Request) -> web.StreamResponse:
    # Browsers following a handle get the profile page; servers the actor document.
    if wants_html(request):
        return await profile_page(request)
    await check_fetch(request)
    document = await actors.actor_document_by_username(
        request.app[context_key], request.match_info["username"]
    )
    return activity_response(document)


@routes.get("/actor")
async def instance_actor(request: web.Request) -> web.Response:
    return activity_response(await actors.instance_actor_document(request.app[context_key]))


async def _actor_iri(request: web.Request) -> str:
    await check_fetch(request)
    document = await actors.actor_document_by_username(
        request.app[context_key], request.match_info["username"]
    )
    return document["id"]


def _page_cursor(request: web.Request) -> int | None:
    raw = request.query.get("max_id")
    if raw is None:
        return None
    # isdigit() alone admits "²", which int() refuses; SQLite integers stop at 2**63.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValidationFailed("max_id must be a number from a next link")
    return int(raw)


@routes.get("/users/{username}/outbox")
async def outbox(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    actor_iri = await _actor_iri(request)
    collection_iri = f"{actor_iri}/outbox"
    async with ctx.storage.read() as session:
        if "page" not in request.query and "max_id" not in request.query:
            total = await session.count_outbox(actor_iri, public_only=True)
            return activity_response(
                builders.ordered_collection(
                    id=collection_iri, total_items=total, first=f"{collection_iri}?page=true"
                )
            )
        before = _page_cursor(request)
        found = await session.list_outbox(
            actor_iri, public_only=True, before_seq=before, limit=PAGE_SIZE + 1
        )
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    page_iri = f"{collection_iri}?max_id={before}" if before else f"{collection_iri}?page=true"
    return activity_response(
        builders.ordered_collection_page(
            id=page_iri,
            part_of=collection_iri,
            ordered_items=[activity.document for activity in found],
            next=f"{collection_iri}?max_id={found[-1].seq}" if more else None,
        )
    )


@routes.get("/users/{username}/followers")
@routes.get("/users/{username}/following")
async def follow_collection(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    actor_iri = await _actor_iri(request)
    which = request.path.rsplit("/", 1)[-1]
    collection_iri = f"{actor_iri}/{which}"
    column = {"followee_iri": actor_iri} if which == "followers" else {"follower_iri": actor_iri}
    async with ctx.storage.read() as session:
        total = await session.count_follows(**column)
        if "page" not in request.query:
            return activity_response(
                builders.ordered_collection(
                    id=collection_iri, total_items=total, first=f"{collection_iri}?page=1"
                )
            )
        page = _page_number(request)
        found = await session.list_follows(
            **column, state="accepted", limit=PAGE_SIZE * page + 1
        )
    items = found[PAGE_SIZE * (page - 1): PAGE_SIZE * page]
    more = len(found) > PAGE_SIZE * page
    key = "follower_iri" if which == "followers" else "followee_iri"
    return activity_response(
        builders.ordered_collection_page(
            id=f"{collection_iri}?page={page}",
            part_of=collection_iri,
            ordered_items=[getattr(item, key) for item in items],
            next=f"{collection_iri}?page={page + 1}" if more else None,
        )
    )


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise ValidationFailed("page must be a number from 1")
    return int(raw)


@routes.get("/listings/{listing_id}")
async def listing_object(request: web.Request) -> web.StreamResponse:
    # One IRI for people and servers: browsers get the page, servers the Proposal.
    if wants_html(request):
        return await listing_page(request)
    await check_fetch(request)
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        listing = await session.get_listing(request.match_info["listing_id"])
    if listing is None or listing.member_id is None:
        raise NotFound("no such listing on this node")
    if listing.deleted_at is not None:
        # The Tombstone tells other servers the listing is gone for good.
        return activity_response(listing.document, status=410)
    return activity_response(listing.document)


@routes.get("/activities/{activity_id}")
async def activity_object(request: web.Request) -> web.Response:
    await check_fetch(request)
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        activity = await session.get_activity(request.match_info["activity_id"])
    if activity is None:
        raise NotFound("no such activity")
    if not activity.public:
        # Private activities are only for their addressees (signed fetches, later).
        raise NotFound("no such activity")
    return activity_response(activity.document)


@routes.get("/agreements/{agreement_id}")
async def agreement_object(request: web.Request) -> web.Response:
    """An Agreement once both parties signed it: attestations cite it, and any
    node can check the two proofs."""
    await check_fetch(request)
    ctx = request.app[context_key]
    iri = f"{ctx.urls.base}/agreements/{request.match_info['agreement_id']}"
    async with ctx.storage.read() as session:
        exchange = await session.get_exchange_by_agreement(iri)
    unsigned_states = {"new", "offered", "countered", "rejected", "withdrawn"}
    if exchange is None or exchange.agreement is None or exchange.state in unsigned_states:
        raise NotFound("no agreed Agreement here")
    return activity_response(exchange.agreement)


@routes.get("/attestations/{attestation_id}")
async def attestation_object(request: web.Request) -> web.Response:
    await check_fetch(request)
    ctx = request.app[context_key]
    iri = f"{ctx.urls.base}/attestations/{request.match_info['attestation_id']}"
    async with ctx.storage.read() as session:
        record = await session.get_attestation(iri)
    if record is None:
        raise NotFound("no such attestation")
    if record.withdrawn_at is not None:
        raise Gone("its issuer withdrew this attestation")
    return activity_response(record.document)


@routes.get("/users/{username}/attestations")
async def attestation_collection(request: web.Request) -> web.Response:
    """Attestations about the member and by the member, so reputation moves with them."""
    ctx = request.app[context_key]
    actor_iri = await _actor_iri(request)
    async with ctx.storage.read() as session:
        about = await session.attestations_about([actor_iri])
        given = await session.attestations_by(actor_iri)
    live = {r.iri: r.document for r in (*about, *given) if r.withdrawn_at is None}
    return activity_response(
        builders.ordered_collection(
            id=f"{actor_iri}/attestations", total_items=len(live),
            ordered_items=list(live.values()),
        )
    )
