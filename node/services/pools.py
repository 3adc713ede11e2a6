"""What a member does with a pool: pledge, withdraw a pledge, and see the
pool's progress. Pledges to a pool of this node are counted here at once;
pledges to a remote pool are recorded and sent as ``Offer{Pledge}``, and the
proposer's node counts them.

Settling a pool at its deadline is :mod:`node.services.pool_settlement`;
pledges and answers from other nodes are handled in
:mod:`node.federation.handlers.pools`. HTML pages call :func:`node.services.pool_views.pool_view`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from node.errors import Forbidden, Gone, NotFound, ValidationFailed
from node.federation.policy import host_of, require_host_allowed
from node.ids import new_id
from node.keys import load_ed25519_private
from node.services import listings
from node.services.actors import LocalActor, member_actor
from node.services.context import NodeContext
from node.services.listing_terms import text_to_html
from node.services.outbox import new_activity_iri, publish_activity
from node.services.pool_terms import (
    NotAPool,
    PledgeExists,
    PoolClosed,
    PoolFull,
    node_error,
    pool_record,
    with_progress,
)
from node.storage.base import Session
from node.storage.queries.pools import Pledge, Pool
from node.storage.records import Listing, Member
from node.timeutil import now_text, utc_now
from protocol import builders
from protocol.builders.listing import measure
from protocol.builders.pools import pledge as pledge_builder
from protocol.builders.pools import pledge_offer
from protocol.currency import currency_iri
from protocol.pools import (
    MAX_POOL_PLEDGES,
    PoolError,
    PoolState,
    PoolTerms,
    check_amount,
    decimal_text,
    read_pool,
)
from protocol.proofs import sign_object

#: Listing statuses under which a pool takes pledges.
_TAKING = ("available", "reserved")


def pool_terms(listing: Listing) -> PoolTerms:
    """The pool of a listing (here or remote); NotAPool when it has none."""
    if listing.deleted_at is not None:
        raise Gone(f"listing {listing.id!r} was deleted")
    try:
        terms = read_pool(listing.document)
    except PoolError as exc:
        raise node_error(exc) from exc
    if terms is None:
        raise NotAPool(f"listing {listing.id!r} is not a pool; it takes no pledges")
    return terms


async def listing_by_id(session: Session, listing_id: str) -> Listing:
    listing = await session.get_listing(listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id!r}; look a remote one up first")
    return listing


def _sign(actor: LocalActor, document: dict[str, Any]) -> dict[str, Any]:
    return sign_object(
        document, load_ed25519_private(actor.ed25519_private_pem), actor.ed25519_key_id
    )


def require_open(
    listing: Listing, terms: PoolTerms, pool: Pool | None, now: datetime, *,
    new_pledge: bool = True,
) -> None:
    """PoolClosed unless a pledge (or a withdrawal) still counts at ``now``."""
    state = pool.state if pool is not None else terms.state.value
    if state != PoolState.OPEN.value or now >= terms.deadline:
        raise PoolClosed("the pool's deadline has passed; it takes no more changes")
    if new_pledge and listing.status not in _TAKING:
        raise PoolClosed(f"the listing is {listing.status}; its pool takes no more pledges")


async def live_total(session: Session, pool_iri: str) -> tuple[Decimal, list[Pledge]]:
    live = await session.list_pledges(pool_iri, states=("live",))
    return sum((Decimal(p.amount) for p in live), Decimal(0)), live


async def publish_progress(
    ctx: NodeContext, session: Session, listing: Listing, *, counted: list[Pledge],
    state: str = PoolState.OPEN.value, outcome: str | None = None, status: str | None = None,
    also: tuple[str, ...] = (),
) -> Listing:
    """Re-sign the pool's Proposal with its progress and publish the Update to
    the author's followers and, addressed to them, to the remote pledgers
    (and ``also`` to these actors, e.g. one who just withdrew)."""
    assert listing.member_id is not None
    author = await session.get_member(listing.member_id)
    assert author is not None
    total = sum((Decimal(p.amount) for p in counted), Decimal(0))
    fields = with_progress(listing.fields, pledged=total, count=len(counted), state=state,
                           outcome=outcome)
    updated = await listings.republish(
        ctx, session, author, listing, fields, status or listing.status
    )
    local_prefix = ctx.urls.base + "/"
    pledgers = {p.pledger_iri for p in counted} | set(also)
    remote = sorted(iri for iri in pledgers if not iri.startswith(local_prefix))
    if remote:
        _, iri = new_activity_iri(ctx)
        actor = member_actor(ctx, author)
        update = builders.update(
            id=iri, actor=actor.iri, object=updated.document, to=remote, published=now_text()
        )
        await publish_activity(ctx, session, actor, update)
    return updated


async def notify_member(session: Session, member_id: int | None, summary: str) -> None:
    if member_id is not None:
        await session.notify(member_id, "pool", summary, None, now_text())


def _amount(terms: PoolTerms, given: str | None) -> Decimal:
    if given is None:
        if terms.kind.value == "participants":
            return Decimal(1)
        raise ValidationFailed(
            "say how much you pledge", errors=[{"pointer": "/amount", "reason": "required"}]
        )
    return Decimal(given)


def _pledge_document(
    ctx: NodeContext, actor: LocalActor, terms: PoolTerms, iri: str, amount: Decimal,
    message: str | None,
) -> dict[str, Any]:
    return _sign(actor, pledge_builder(
        id=iri, author=actor.iri, proposal_id=terms.proposal_id,
        quantity=measure(unit=terms.unit, value=decimal_text(amount)),
        currency=currency_iri(terms.currency) if terms.currency else None,
        # Plain text from the member, escaped into the HTML `content` holds (AS2 §4).
        content=text_to_html(message) or None if message else None, published=now_text(),
    ))


async def pledge(
    ctx: NodeContext, member: Member, listing_id: str, amount: str | None,
    message: str | None = None,
) -> Pledge:
    """Pledge towards the pool of a listing here or on another node."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        listing = await listing_by_id(tx, listing_id)
        if listing.member_id is not None:
            # One pledge at a time per pool: two cannot both take the last place.
            await tx.lock_listing(listing.seq)
            listing = await listing_by_id(tx, listing_id)
        else:
            await require_host_allowed(ctx, host_of(listing.iri))
        terms = pool_terms(listing)
        if terms.author == actor.iri:
            raise Forbidden("you cannot pledge to your own pool")
        pool = await tx.get_pool(listing.iri)
        require_open(listing, terms, pool, utc_now())
        value = _amount(terms, amount)
        try:
            check_amount(terms, value, terms.unit, terms.currency_iri)
        except PoolError as exc:
            raise node_error(exc) from exc
        if await tx.live_pledge_of(listing.iri, actor.iri) is not None:
            raise PledgeExists("you already pledged to this pool; withdraw that pledge first")
        local = listing.member_id is not None
        if local:
            _, live = await live_total(tx, listing.iri)
            if len(live) >= MAX_POOL_PLEDGES:
                raise PoolFull(f"the pool counts at most {MAX_POOL_PLEDGES} pledges")
        elif pool is None:
            pool = pool_record(terms, listing, local=False)
            await tx.insert_pool(pool)
        pledge_id = new_id()
        document = _pledge_document(
            ctx, actor, terms, f"{ctx.urls.base}/pledges/{pledge_id}", value, message
        )
        _, offer_iri = new_activity_iri(ctx)
        now = now_text()
        record = Pledge(
            id=pledge_id, iri=document["id"], offer_iri=offer_iri, pool_iri=listing.iri,
            pledger_iri=actor.iri, member_id=member.id, amount=decimal_text(value),
            state="live", reason=None, document=document, created_at=now, updated_at=now,
        )
        await tx.insert_pledge(record)
        await publish_activity(ctx, tx, actor, pledge_offer(
            id=offer_iri, actor=actor.iri, pledge=document, proposal_id=listing.iri,
            to=[terms.author], published=now,
        ))
        if local:
            _, live = await live_total(tx, listing.iri)
            await publish_progress(ctx, tx, listing, counted=live)
            await notify_member(
                tx, listing.member_id, f"{actor.iri} pledged {record.amount} to '{listing.title}'"
            )
        return record


async def withdraw(
    ctx: NodeContext, member: Member, listing_id: str, pledge_id: str
) -> Pledge:
    """Take a live pledge back before the deadline: ``Undo`` of its Offer."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        listing = await listing_by_id(tx, listing_id)
        if listing.member_id is not None:
            await tx.lock_listing(listing.seq)
            listing = await listing_by_id(tx, listing_id)  # as it is under the lock
        found = await tx.get_pledge(pledge_id)
        if found is None or found.member_id != member.id or found.pool_iri != listing.iri:
            raise NotFound("no such pledge of yours to this pool")
        if found.state != "live":
            raise PoolClosed(f"the pledge is already {found.state}")
        terms = pool_terms(listing)
        pool = await tx.get_pool(listing.iri)
        require_open(listing, terms, pool, utc_now(), new_pledge=False)
        now = now_text()
        await tx.set_pledge_state(found.id, "withdrawn", now, only_from="live")
        _, undo_iri = new_activity_iri(ctx)
        await publish_activity(ctx, tx, actor, builders.withdraw_offer(
            id=undo_iri, actor=actor.iri, offer_id=found.offer_iri, to=[terms.author],
            published=now,
        ))
        if listing.member_id is not None:
            _, live = await live_total(tx, listing.iri)
            await publish_progress(ctx, tx, listing, counted=live, also=(actor.iri,))
            await notify_member(
                tx, listing.member_id, f"{actor.iri} withdrew a pledge to '{listing.title}'"
            )
        return replace(found, state="withdrawn", updated_at=now)
