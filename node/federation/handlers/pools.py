"""Pooled pledges from other nodes.

On the proposer's node: ``Offer{Pledge}`` (counted when it is signed, bound to
the pool and within its limits before the deadline) and ``Undo`` of such an
Offer. A pledge refused for the pool's rules is answered with ``Reject`` and
recorded as rejected; one that fails authentication is only recorded.

On the pledger's node: ``Accept``/``Reject`` of a member's pledge Offer, whose
``result`` is the proposer's signed outcome; it is verified before the pledge
becomes a commitment (or is released) and the member is told.

:func:`pledge_aware` puts these in front of the exchange and follow handlers
of the same activity types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from node.errors import Conflict, Forbidden, Gone, NodeError
from node.federation.fetch import fetch_json
from node.federation.policy import host_allowed, host_of
from node.federation.remote_actors import RemoteActors
from node.ids import new_id
from node.services.actors import instance_actor, member_actor
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.services.pool_settlement import pledge_summary
from node.services.pool_terms import NotAPool, PledgeExists, PoolClosed, PoolFull, node_error
from node.services.pools import live_total, notify_member, pool_terms, publish_progress
from node.storage.queries.pools import Pledge
from node.storage.records import Listing
from node.timeutil import now_text, utc_now
from protocol.builders.pools import pledge_answer
from protocol.errors import ProofError
from protocol.normalize import has_type, id_of
from protocol.pools import MAX_POOL_PLEDGES, PoolError, check_pledge, decimal_text, verify_outcome
from protocol.proofs import verify_authored_object
from protocol.validation import validate

Handler = Callable[[NodeContext, dict[str, Any]], Awaitable[str]]
#: Refusals the pledger's node is told about: the pledge itself was genuine.
_ANSWERED = (PoolClosed, PoolFull, PledgeExists, NotAPool, Gone)
_TAKING = ("available", "reserved")


async def _refuse(
    ctx: NodeContext, activity: dict[str, Any], listing: Listing, error: NodeError
) -> NodeError:
    """Tell the pledger's node that a genuine pledge does not count; return the error."""
    async with ctx.storage.transaction() as tx:
        author = await tx.get_member(listing.member_id) if listing.member_id else None
        if author is not None:
            actor = member_actor(ctx, author)
            _, iri = new_activity_iri(ctx)
            await publish_activity(ctx, tx, actor, pledge_answer(
                type="Reject", id=iri, actor=actor.iri, offer_id=activity["id"],
                to=[activity["actor"]], reason=error.detail, published=now_text(),
            ))
    return error


async def _count(
    ctx: NodeContext, activity: dict[str, Any], listing: Listing, sender: str
) -> None:
    """Count a verified pledge, under the same lock as local pledges and settlement."""
    pledge = activity["object"]
    async with ctx.storage.transaction() as tx:
        await tx.lock_listing(listing.seq)
        current = await tx.get_listing_by_iri(listing.iri)
        pool = await tx.get_pool(listing.iri)
        assert current is not None
        terms = pool_terms(current)
        if pool is None or pool.state != "open" or current.status not in _TAKING:
            raise PoolClosed("the pool takes no more pledges")
        try:
            amount = check_pledge(terms, pledge, sender=sender, now=utc_now())
        except PoolError as exc:
            raise node_error(exc) from exc
        if await tx.live_pledge_of(listing.iri, sender) is not None:
            raise PledgeExists("the sender already has a live pledge to this pool")
        _, live = await live_total(tx, listing.iri)
        if len(live) >= MAX_POOL_PLEDGES:
            raise PoolFull(f"the pool counts at most {MAX_POOL_PLEDGES} pledges")
        now = now_text()
        stored = await tx.insert_pledge(Pledge(
            id=new_id(), iri=pledge["id"], offer_iri=activity["id"], pool_iri=listing.iri,
            pledger_iri=sender, member_id=None, amount=decimal_text(amount), state="live",
            reason=None, document=pledge, created_at=now, updated_at=now,
        ))
        if not stored:
            raise Conflict("this pledge was received before")
        _, live = await live_total(tx, listing.iri)
        await publish_progress(ctx, tx, current, counted=live)
        await notify_member(tx, current.member_id,
                            f"{sender} pledged {decimal_text(amount)} to '{current.title}'")


async def handle_pledge(ctx: NodeContext, activity: dict[str, Any]) -> str:
    """``Offer{Pledge}`` to a pool of this node."""
    validate(activity, "pool-pledge-offer")
    sender = id_of(activity.get("actor")) or ""
    pledge = activity["object"]
    async with ctx.storage.read() as session:
        listing = await session.get_listing_by_iri(id_of(activity.get("inReplyTo")) or "")
        allowed = await host_allowed(ctx, session, host_of(sender))
    if listing is None or listing.member_id is None:
        return "ignored: the pledge is to no listing of this node"
    if not allowed:
        raise Forbidden(f"this node does not federate with {host_of(sender)}")
    if host_of(id_of(pledge) or "") != host_of(sender):
        raise Forbidden("the pledge's id must be on its author's origin")
    try:
        verify_authored_object(pledge, (await RemoteActors(ctx).get(sender)).document)
    except ProofError as exc:
        raise Forbidden(f"the pledge is not signed by its author: {exc.detail}") from exc
    try:
        await _count(ctx, activity, listing, sender)
    except NodeError as exc:
        # Genuine pledges refused for the pool's rules are answered; forgeries are not.
        if isinstance(exc, _ANSWERED) or exc.status == 422:
            raise await _refuse(ctx, activity, listing, exc) from None
        raise
    return "applied: pledge"


async def handle_pledge_undo(ctx: NodeContext, activity: dict[str, Any], pledge: Pledge) -> str:
    """``Undo`` of a pledge Offer: withdrawn, if the pool is still open."""
    sender = id_of(activity.get("actor"))
    async with ctx.storage.transaction() as tx:
        pool = await tx.get_pool(pledge.pool_iri)
        listing = await tx.get_listing_by_iri(pledge.pool_iri)
        if pool is None or not pool.local or listing is None:
            return "ignored: the pledge is to no pool of this node"
        if sender != pledge.pledger_iri:
            raise Forbidden("only the pledger withdraws a pledge")
        await tx.lock_listing(listing.seq)
        listing = await tx.get_listing_by_iri(pledge.pool_iri)  # as it is under the lock
        pool = await tx.get_pool(pledge.pool_iri)
        current = await tx.get_pledge(pledge.id)
        assert listing is not None and pool is not None and current is not None
        if current.state != "live":
            raise Conflict(f"the pledge is already {current.state}")
        if pool.state != "open" or now_text() >= pool.deadline:
            raise PoolClosed("the pool's deadline has passed; the pledge stands")
        await tx.set_pledge_state(pledge.id, "withdrawn", now_text(), only_from="live")
        _, live = await live_total(tx, pledge.pool_iri)
        if listing.deleted_at is None:
            await publish_progress(ctx, tx, listing, counted=live, also=(pledge.pledger_iri,))
        await notify_member(tx, listing.member_id,
                            f"{sender} withdrew a pledge to '{listing.title}'")
    return "applied: pledge withdrawn"


async def _outcome_of(ctx: NodeContext, result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return result
    iri = id_of(result)
    if iri is None:
        raise Forbidden("the answer carries no outcome")
    return await fetch_json(ctx, iri, signer=await instance_actor(ctx))


async def handle_pledge_answer(
    ctx: NodeContext, activity: dict[str, Any], kind: str, pledge: Pledge
) -> str:
    """``Accept``/``Reject`` of a member's pledge Offer, from the pool's author."""
    sender = id_of(activity.get("actor")) or ""
    async with ctx.storage.read() as session:
        pool = await session.get_pool(pledge.pool_iri)
    if pool is None or pool.local:
        return "ignored: pledges to this node's pools are answered here"
    if sender != pool.author_iri:
        raise Forbidden("only the pool's author answers a pledge")
    validate(activity, "pool-settlement")
    result = activity.get("result")
    now = now_text()
    if result is None:
        if kind == "Accept":
            raise Forbidden("a pledge is accepted only with the pool's outcome")
        async with ctx.storage.transaction() as tx:
            reason = str(activity.get("content") or "refused")[:2000]
            if await tx.set_pledge_state(pledge.id, "refused", now, reason=reason,
                                         only_from="live"):
                await notify_member(tx, pledge.member_id,
                                    f"Your pledge of {pledge.amount} was refused: {reason}")
        return "applied: pledge refused"
    outcome = await _outcome_of(ctx, result)
    if host_of(id_of(outcome) or "") != host_of(sender):
        raise Forbidden("the outcome's id must be on its author's origin")
    try:
        entries = verify_outcome(outcome, (await RemoteActors(ctx).get(sender)).document,
                                 proposal_id=pool.listing_iri)
    except PoolError as exc:
        raise Forbidden(f"the outcome does not hold: {exc.detail}") from exc
    except ProofError as exc:
        raise Forbidden(f"the outcome's proof does not verify: {exc.detail}") from exc
    succeeded = outcome["poolState"] == "succeeded"
    if succeeded != (kind == "Accept"):
        raise Forbidden(f"{kind} does not match a {outcome['poolState']} outcome")
    if pledge.iri not in {entry.pledge for entry in entries}:
        raise Forbidden("the outcome does not list this pledge")
    async with ctx.storage.transaction() as tx:
        if not await tx.close_pool(pool.listing_iri, state=outcome["poolState"],
                                   outcome=outcome, settled_at=now):
            kept = await tx.get_pool(pool.listing_iri)
            if kept is None or kept.outcome_iri != outcome["id"]:
                raise Conflict("this pool already has another outcome")
        # The outcome decides, also over a withdrawal the proposer never counted.
        state = "committed" if succeeded else "released"
        if await tx.set_pledge_state(pledge.id, state, now) and pledge.state != state:
            listing = await tx.get_listing_by_iri(pool.listing_iri)
            title = listing.title if listing else pool.listing_iri
            await notify_member(tx, pledge.member_id,
                                pledge_summary(title, pledge.amount, succeeded=succeeded))
    return f"applied: pledge {state}"


async def handle_pool_activity(ctx: NodeContext, activity: dict[str, Any]) -> str | None:
    """The outcome if ``activity`` concerns a pledge; None to let others handle it."""
    kind = str(activity.get("type"))
    obj = activity.get("object")
    if kind == "Offer":
        return await handle_pledge(ctx, activity) if isinstance(obj, dict) and has_type(
            obj, "Pledge") else None
    offer_iri = id_of(obj)
    if offer_iri is None:
        return None
    async with ctx.storage.read() as session:
        pledge = await session.get_pledge_by_offer(offer_iri)
    if pledge is None:
        return None
    if kind == "Undo":
        return await handle_pledge_undo(ctx, activity, pledge)
    if kind in ("Accept", "Reject"):
        return await handle_pledge_answer(ctx, activity, kind, pledge)
    return None


def pledge_aware(fallback: Handler) -> Handler:
    """``fallback`` for everything that is not about a pledge."""

    async def handle(ctx: NodeContext, activity: dict[str, Any]) -> str:
        outcome = await handle_pool_activity(ctx, activity)
        return outcome if outcome is not None else await fallback(ctx, activity)

    handle.__doc__ = fallback.__doc__
    return handle
