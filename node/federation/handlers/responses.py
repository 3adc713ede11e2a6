"""Accept and Reject of our Follows."""

from __future__ import annotations

from typing import Any

from node.federation.handlers import exchange
from node.services import follows
from node.services.context import NodeContext
from protocol.normalize import id_of


async def _answer(ctx: NodeContext, activity: dict[str, Any], state: str) -> str:
    actor = id_of(activity.get("actor")) or ""
    follow_iri = id_of(activity.get("object"))
    if follow_iri is None:
        return "ignored: no object"
    async with ctx.storage.read() as session:
        offered = await session.get_exchange_by_offer(follow_iri)
    if offered is not None:
        kind = "Accept" if state == "accepted" else "Reject"
        return await exchange.handle_offer_answer(ctx, activity, kind, offered)
    changed = await follows.answer_outgoing_follow(ctx, follow_iri, actor, state)
    return "applied" if changed else "ignored: no such follow of ours"


async def handle_accept(ctx: NodeContext, activity: dict[str, Any]) -> str:
    return await _answer(ctx, activity, "accepted")


async def handle_reject(ctx: NodeContext, activity: dict[str, Any]) -> str:
    return await _answer(ctx, activity, "rejected")
