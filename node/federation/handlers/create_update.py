"""Create and Update: listings from followed members, and actor updates."""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.handlers.attestation import store_attestation
from node.federation.handlers.exchange import store_message
from node.federation.handlers.replies import store_reply
from node.federation.remote_actors import RemoteActors
from node.federation.remote_listings import store_remote_listing
from node.federation.verification import followed_locally, verified_proposal
from node.services.context import NodeContext
from node.services.follows import NOT_FOLLOWED
from protocol.normalize import has_type, id_of

_ACTOR_TYPES = ("Person", "Group", "Service", "Application", "Organization")


async def _listing(ctx: NodeContext, activity: dict[str, Any], *, must_exist: bool) -> str:
    proposal = activity.get("object")
    if not isinstance(proposal, dict):
        return "ignored: the listing is not embedded"
    actor = id_of(activity.get("actor"))
    if id_of(proposal.get("attributedTo")) != actor:
        raise Forbidden("only a listing's author may create or update it")
    await verified_proposal(ctx, proposal)
    async with ctx.storage.read() as session:
        known = await session.get_listing_by_iri(proposal["id"]) is not None
    if not known and (must_exist or not await followed_locally(ctx, actor or "")):
        return f"{NOT_FOLLOWED} the author"
    async with ctx.storage.transaction() as tx:
        await store_remote_listing(tx, proposal)
    return "applied"


async def handle_create(ctx: NodeContext, activity: dict[str, Any]) -> str:
    if (outcome := await store_attestation(ctx, activity)) is not None:
        return outcome
    obj = activity.get("object")
    if isinstance(obj, dict) and has_type(obj, "Proposal"):
        return await _listing(ctx, activity, must_exist=False)
    if isinstance(obj, dict) and has_type(obj, "Note"):
        return await store_message(ctx, activity) or await store_reply(ctx, activity)
    return "ignored: Kula keeps listings, messages and replies to listings"


async def handle_update(ctx: NodeContext, activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    actor = id_of(activity.get("actor"))
    if isinstance(obj, dict) and has_type(obj, "Proposal"):
        return await _listing(ctx, activity, must_exist=False)
    if isinstance(obj, dict) and has_type(obj, "Note"):
        return await store_reply(ctx, activity)
    if isinstance(obj, dict) and any(has_type(obj, kind) for kind in _ACTOR_TYPES):
        if id_of(obj) != actor:
            raise Forbidden("an actor may only update itself")
        # Refetch from the origin rather than trusting the embedded copy.
        await RemoteActors(ctx).get(actor, refresh=True)
        return "applied: actor refreshed"
    return "ignored: nothing Kula keeps"
