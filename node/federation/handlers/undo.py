"""Undo of a Follow (unfollow); other undos concern nothing Kula keeps."""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.handlers import exchange
from node.services.context import NodeContext
from protocol.normalize import has_type, id_of


async def handle_undo(ctx: NodeContext, activity: dict[str, Any]) -> str:
    actor = id_of(activity.get("actor"))
    undone = activity.get("object")
    undone_iri = id_of(undone)
    if undone_iri:
        async with ctx.storage.read() as session:
            offered = await session.get_exchange_by_offer(undone_iri)
        if offered is not None:
            return await exchange.handle_offer_answer(ctx, activity, "Undo", offered)
    async with ctx.storage.transaction() as tx:
        follow = await tx.get_follow_by_activity(undone_iri) if undone_iri else None
        if follow is None and isinstance(undone, dict) and has_type(undone, "Follow"):
            target = id_of(undone.get("object"))
            follow = await tx.get_follow(actor or "", target or "") if target else None
        if follow is None:
            return "ignored: nothing to undo"
        if follow.follower_iri != actor:
            raise Forbidden("only the follower can undo a follow")
        await tx.delete_follow(follow.id)
    return "applied"
