"""Client API: exchanges (offers, answers, lifecycle, messages) and notifications."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import NotFound
from node.services import exchanges
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.services.exchange_state import role_of
from node.services.exchange_terms import Terms
from node.storage.records import Exchange
from node.timeutil import now_text
from node.typedefs import context_key
from node.web.requests import read_json, require
from protocol.exchange_states import allowed_activities

routes = web.RouteTableDef()
_ACTIONS = {
    "Offer": "counter", "Accept": "accept", "Reject": "reject", "Undo": "withdraw",
    "Handover": "handover", "Return": "return", "Complete": "complete", "Cancel": "cancel",
    "NoShow": "no-show", "Dispute": "dispute",
}


async def exchange_json(ctx: NodeContext, exchange: Exchange, viewer_iri: str) -> dict[str, Any]:
    role = role_of(exchange, viewer_iri)
    async with ctx.storage.read() as session:
        events = await session.list_exchange_events(exchange.id)
        listing = (
            await session.get_listing_by_seq(exchange.listing_seq)
            if exchange.listing_seq is not None else None
        )
    return {
        "id": exchange.id,
        "listing": exchange.proposal_iri,
        "listing_title": listing.title if listing else None,
        "mode": exchange.mode,
        "role": role.value,
        "proposer": exchange.proposer_iri,
        "responder": exchange.responder_iri,
        "state": exchange.state,
        "quantity": exchange.quantity,
        "start": exchange.starts_at,
        "end": exchange.ends_at,
        "reason": exchange.reason,
        "agreement": exchange.agreement,
        "actions": sorted(_ACTIONS[a] for a in allowed_activities(exchange.state, role)),
        "events": [
            {"type": e.type, "actor": e.actor_iri, "from": e.from_state, "to": e.to_state,
             "content": e.content, "at": e.created_at}
            for e in events
        ],
        "created_at": exchange.created_at,
        "updated_at": exchange.updated_at,
    }


def _terms(body: dict[str, Any]) -> Terms:
    return Terms(
        quantity=body.get("quantity", 1),
        starts_at=body.get("start"),
        ends_at=body.get("end"),
        price_amount=body.get("price"),
    )


async def _respond(request: web.Request, exchange: Exchange, status: int = 200) -> web.Response:
    ctx = request.app[context_key]
    principal = await require(request, "read")
    viewer = member_actor(ctx, principal.member).iri
    return web.json_response(await exchange_json(ctx, exchange, viewer), status=status)


@routes.post("/api/v1/exchanges")
async def create_exchange(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-exchange-offer-request")
    exchange = await exchanges.make_offer(
        request.app[context_key], principal.member, body["listing"], _terms(body),
        body.get("message"),
    )
    return await _respond(request, exchange, status=201)


@routes.get("/api/v1/exchanges")
async def list_exchanges(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    ctx = request.app[context_key]
    iri = member_actor(ctx, principal.member).iri
    async with ctx.storage.read() as session:
        found = await session.list_exchanges_of(iri)
    return web.json_response({"items": [await exchange_json(ctx, e, iri) for e in found]})


@routes.get("/api/v1/exchanges/{exchange_id}")
async def show_exchange(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        exchange = await session.get_exchange(request.match_info["exchange_id"])
    iri = member_actor(ctx, principal.member).iri
    if exchange is None or iri not in (exchange.proposer_iri, exchange.responder_iri):
        raise NotFound("no such exchange of yours")
    return await _respond(request, exchange)


@routes.post("/api/v1/exchanges/{exchange_id}/counter")
async def counter(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-exchange-counter-request")
    exchange = await exchanges.counter_offer(
        request.app[context_key], principal.member, request.match_info["exchange_id"],
        _terms(body), body.get("message"),
    )
    return await _respond(request, exchange)


@routes.post("/api/v1/exchanges/{exchange_id}/accept")
async def accept(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    exchange = await exchanges.accept(
        request.app[context_key], principal.member, request.match_info["exchange_id"]
    )
    return await _respond(request, exchange)


async def _optional_body(request: web.Request) -> dict[str, Any]:
    if request.content_length in (None, 0) and not request.can_read_body:
        return {}
    return await read_json(request, "api-exchange-action-request")


@routes.post("/api/v1/exchanges/{exchange_id}/reject")
@routes.post("/api/v1/exchanges/{exchange_id}/withdraw")
async def answer(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await _optional_body(request)
    kind = "Reject" if request.path.endswith("/reject") else "Undo"
    exchange = await exchanges.answer_offer(
        request.app[context_key], principal.member, request.match_info["exchange_id"], kind,
        body.get("content"),
    )
    return await _respond(request, exchange)


LIFECYCLE_ACTIONS = ("handover", "return", "complete", "cancel", "no-show", "dispute")


async def lifecycle(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await _optional_body(request)
    exchange = await exchanges.lifecycle(
        request.app[context_key], principal.member, request.match_info["exchange_id"],
        request.path.rsplit("/", 1)[-1], body.get("content"),
    )
    return await _respond(request, exchange)


for _action in LIFECYCLE_ACTIONS:
    routes.post(f"/api/v1/exchanges/{{exchange_id}}/{_action}")(lifecycle)


@routes.get("/api/v1/exchanges/{exchange_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    ctx = request.app[context_key]
    iri = member_actor(ctx, principal.member).iri
    async with ctx.storage.read() as session:
        exchange = await session.get_exchange(request.match_info["exchange_id"])
        if exchange is None or iri not in (exchange.proposer_iri, exchange.responder_iri):
            raise NotFound("no such exchange of yours")
        messages = await session.list_messages(exchange.id)
    return web.json_response({"items": [
        {"iri": m.iri, "author": m.author_iri, "content": m.content, "published": m.published}
        for m in messages
    ]})


@routes.post("/api/v1/exchanges/{exchange_id}/messages")
async def post_message(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-message-request")
    note = await exchanges.send_message(
        request.app[context_key], principal.member, request.match_info["exchange_id"],
        body["content"],
    )
    return web.json_response(
        {"iri": note["id"], "author": note["attributedTo"], "content": body["content"],
         "published": note["published"]},
        status=201,
    )


@routes.get("/api/v1/notifications")
async def notifications(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    ctx = request.app[context_key]
    unread = request.query.get("unread") == "true"
    async with ctx.storage.read() as session:
        found = await session.list_notifications(principal.member.id, unread_only=unread)
    return web.json_response({"items": [
        {"id": n.id, "kind": n.kind, "exchange": n.exchange_id, "summary": n.summary,
         "created_at": n.created_at, "read": n.read_at is not None}
        for n in found
    ]})


@routes.post("/api/v1/notifications/read")
async def mark_read(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-notifications-read-request")
    ctx = request.app[context_key]
    async with ctx.storage.transaction() as tx:
        count = await tx.mark_notifications_read(principal.member.id, body["up_to"], now_text())
    return web.json_response({"marked": count})
