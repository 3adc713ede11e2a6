"""Settling a pool at its deadline, on the proposer's node.

A worker step claims each local pool whose deadline has passed (a claim per
pool, so several workers never settle one twice, and a dead worker's claim
lapses), then in one transaction: counts the live pledges, builds and signs
the ``PoolOutcome``, marks every pledge committed or released, answers each
pledge Offer with ``Accept`` or ``Reject`` carrying the outcome, notifies the
local pledgers and the author, and publishes the pool's final progress.
Running it again changes nothing: a closed pool is never settled twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from node.keys import load_ed25519_private
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.services.pools import notify_member, publish_progress
from node.storage.base import Session
from node.storage.queries.pools import Pledge, Pool
from node.storage.records import Listing
from node.timeutil import to_text, utc_now
from protocol.builders.listing import measure
from protocol.builders.pools import pledge_answer, pool_commitment, pool_outcome
from protocol.currency import currency_iri
from protocol.pools import PoolState, decimal_text
from protocol.proofs import sign_object

#: How long a worker holds a pool it is settling before another may take it.
CLAIM_SECONDS = 120
#: Outcomes listing more commitments than this travel by id in Accept/Reject
#: (the pledger's node fetches them), so N answers never carry N copies of a
#: large document.
EMBED_OUTCOME_MAX_ENTRIES = 50


def outcome_iri(ctx: NodeContext, listing: Listing) -> str:
    return f"{ctx.urls.base}/pools/{listing.id}/outcome"


def _outcome(
    ctx: NodeContext, pool: Pool, listing: Listing, counted: list[Pledge], *,
    succeeded: bool, now: str,
) -> dict:
    iri = outcome_iri(ctx, listing)
    currency = currency_iri(pool.currency) if pool.currency else None
    total = sum((Decimal(p.amount) for p in counted), Decimal(0))
    commitments = [
        pool_commitment(
            id=f"{iri}#c{index}", pledge_id=pledge.iri, pledger=pledge.pledger_iri,
            proposer=pool.author_iri, quantity=measure(unit=pool.unit, value=pledge.amount),
            currency=currency,
        )
        for index, pledge in enumerate(counted, start=1)
    ]
    return pool_outcome(
        id=iri, author=pool.author_iri, proposal_id=pool.listing_iri,
        pool_state=(PoolState.SUCCEEDED if succeeded else PoolState.FAILED).value,
        goal_kind=pool.goal_kind, goal=measure(unit=pool.unit, value=pool.goal_amount),
        currency=currency, end_time=pool.deadline,
        pledged=measure(unit=pool.unit, value=decimal_text(total)),
        pledge_count=len(counted),
        commitments=commitments if succeeded else (),
        released=() if succeeded else [pledge.iri for pledge in counted],
        published=now,
    )


async def _answer_pledges(
    ctx: NodeContext, session: Session, listing: Listing, counted: list[Pledge],
    outcome: dict, *, succeeded: bool, now: str,
) -> None:
    assert listing.member_id is not None
    author = await session.get_member(listing.member_id)
    assert author is not None
    actor = member_actor(ctx, author)
    result: dict | str = outcome if len(counted) <= EMBED_OUTCOME_MAX_ENTRIES else outcome["id"]
    state = "committed" if succeeded else "released"
    for pledge in counted:
        await session.set_pledge_state(pledge.id, state, now, only_from="live")
        _, iri = new_activity_iri(ctx)
        await publish_activity(ctx, session, actor, pledge_answer(
            type="Accept" if succeeded else "Reject", id=iri, actor=actor.iri,
            offer_id=pledge.offer_iri, to=[pledge.pledger_iri], outcome=result, published=now,
        ))
        await notify_member(session, pledge.member_id, pledge_summary(
            listing.title, pledge.amount, succeeded=succeeded))
    verdict = "reached its goal" if succeeded else "did not reach its goal"
    await notify_member(session, listing.member_id,
                        f"Your pool '{listing.title}' {verdict} ({len(counted)} pledges)")


def pledge_summary(title: str, amount: str, *, succeeded: bool) -> str:
    """The notification a pledger gets when the pool closes."""
    if succeeded:
        return f"The pool '{title}' reached its goal: your pledge of {amount} is now a commitment"
    return f"The pool '{title}' did not reach its goal: your pledge of {amount} was released"


async def settle_pool(ctx: NodeContext, listing_iri: str, moment: datetime) -> bool:
    """Close one local pool whose deadline has passed; False if it was closed already."""
    now = to_text(moment)
    async with ctx.storage.transaction() as tx:
        listing = await tx.get_listing_by_iri(listing_iri)
        if listing is None or listing.member_id is None:
            return False
        # The same lock pledges take: none is counted while the pool closes.
        await tx.lock_listing(listing.seq)
        pool = await tx.get_pool(listing_iri)
        if pool is None or pool.state != PoolState.OPEN.value or pool.deadline > now:
            return False
        listing = await tx.get_listing_by_iri(listing_iri)
        assert listing is not None
        counted = await tx.list_pledges(listing_iri, states=("live",))
        total = sum((Decimal(p.amount) for p in counted), Decimal(0))
        alive = listing.deleted_at is None and listing.status != "withdrawn"
        succeeded = alive and total >= Decimal(pool.goal_amount)
        author = await tx.get_member(listing.member_id)
        assert author is not None
        local = member_actor(ctx, author)
        outcome = sign_object(
            _outcome(ctx, pool, listing, counted, succeeded=succeeded, now=now),
            load_ed25519_private(local.ed25519_private_pem), local.ed25519_key_id,
            created=now,
        )
        state = outcome["poolState"]
        if not await tx.close_pool(listing_iri, state=state, outcome=outcome, settled_at=now):
            return False
        await _answer_pledges(ctx, tx, listing, counted, outcome, succeeded=succeeded, now=now)
        if listing.deleted_at is None:
            status = listing.status
            # A listing that lapsed at the deadline still closes as its pool did.
            if status in ("available", "reserved", "expired"):
                status = "completed" if succeeded else "expired"
            await publish_progress(ctx, tx, listing, counted=counted, state=state,
                                   outcome=outcome["id"], status=status)
    return True


async def settle_due(ctx: NodeContext, now: datetime | None = None, limit: int = 20) -> int:
    """Worker step: settle the local pools whose deadline has passed. ``now``
    may be given (tests drive time this way); returns how many were taken."""
    moment = now or utc_now()
    async with ctx.storage.transaction() as tx:
        claimed = await tx.claim_due_pools(
            to_text(moment), to_text(moment + timedelta(seconds=CLAIM_SECONDS)), limit
        )
    for pool in claimed:
        await settle_pool(ctx, pool.listing_iri, moment)
    return len(claimed)
