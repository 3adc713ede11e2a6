"""What a member does in an exchange: offer, counter, accept, reject,
withdraw, and the lifecycle after agreement. Each action is checked by the
state machine, applied, and published to the other party in one transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from node.errors import Forbidden, NotFound, ValidationFailed
from node.ids import new_id
from node.keys import load_ed25519_private
from node.services.actors import LocalActor, local_actor_by_iri, member_actor
from node.services.context import NodeContext
from node.services.exchange_state import apply_activity, notify_party, other_party, role_of
from node.services.exchange_terms import (
    Terms,
    build_agreement,
    check_takes_offers,
    check_terms,
)
from node.services.listing_terms import text_to_html
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from node.storage.records import Exchange, ExchangeMessage, Listing, Member
from node.timeutil import now_text
from protocol import builders
from protocol.exchange_states import ExchangeState, next_state
from protocol.proofs import sign_object

_LIFECYCLE = {
    "handover": "Handover",
    "return": "Return",
    "complete": "Complete",
    "cancel": "Cancel",
    "no-show": "NoShow",
    "dispute": "Dispute",
}
#: Lifecycle activities whose ``content`` (the reason) is required.
_NEEDS_REASON = frozenset({"Cancel", "Dispute"})


def _sign(local: LocalActor, document: dict[str, Any]) -> dict[str, Any]:
    return sign_object(
        document, load_ed25519_private(local.ed25519_private_pem), local.ed25519_key_id
    )


async def _listing_for(session: Session, reference: str) -> Listing:
    if reference.startswith(("https://", "http://")):
        listing = await session.get_listing_by_iri(reference)
    else:
        listing = await session.get_listing(reference)
    if listing is None:
        raise NotFound(
            "no such listing here; look a remote listing up first with /api/v1/lookup/listing"
        )
    check_takes_offers(listing)
    return listing


async def _own_exchange(session: Session, member: LocalActor, exchange_id: str) -> Exchange:
    exchange = await session.get_exchange(exchange_id)
    if exchange is None or member.iri not in (exchange.proposer_iri, exchange.responder_iri):
        raise NotFound("no such exchange of yours")
    return exchange


def _html(text: str | None) -> str | None:
    """A member's plain text as the HTML an activity's ``content`` holds (AS2 §4)."""
    return (text_to_html(text) or None) if text else None


async def _send_offer(
    ctx: NodeContext,
    session: Session,
    actor: LocalActor,
    exchange: Exchange,
    agreement: dict[str, Any],
    *,
    in_reply_to: str,
    message: str | None,
) -> Exchange:
    _, offer_iri = new_activity_iri(ctx)
    offer = builders.offer(
        id=offer_iri, actor=actor.iri, agreement=agreement, in_reply_to=in_reply_to,
        context=exchange.proposal_iri, content=_html(message),
        to=[other_party(exchange, actor.iri)], published=now_text(),
    )
    role = role_of(exchange, actor.iri)
    exchange = await apply_activity(
        ctx, session, exchange, activity_type="Offer", actor_iri=actor.iri,
        activity_iri=offer_iri, content=message,
    )
    exchange = replace(
        exchange, pending_offer_iri=offer_iri, pending_offer_role=role.value,
        agreement_iri=agreement["id"], agreement=agreement,
    )
    await session.save_exchange(exchange)
    await session.add_offer(offer_iri, exchange.id, agreement["id"], role.value, now_text())
    await publish_activity(ctx, session, actor, offer)
    return exchange


async def make_offer(
    ctx: NodeContext, member: Member, listing_ref: str, terms: Terms, message: str | None
) -> Exchange:
    """Answer a listing (here or on another node) with ``Offer{Agreement}``."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        listing = await _listing_for(tx, listing_ref)
        if listing.author_iri == actor.iri:
            raise Forbidden("you cannot answer your own listing")
        check_terms(listing, terms)
        now = now_text()
        exchange = Exchange(
            id=new_id(), proposal_iri=listing.iri, listing_seq=listing.seq,
            proposer_iri=listing.author_iri, responder_iri=actor.iri, mode=listing.mode,
            state=ExchangeState.NEW.value, pending_offer_iri=None, pending_offer_role=None,
            agreement_iri=None, agreement=None, quantity=terms.quantity,
            starts_at=terms.starts_at, ends_at=terms.ends_at, holds_availability=False,
            reason=None, created_at=now, updated_at=now,
        )
        await tx.save_exchange(exchange)
        agreement = _sign(actor, build_agreement(
            listing, terms, agreement_iri=f"{ctx.urls.base}/agreements/{new_id()}",
            responder_iri=actor.iri,
        ))
        return await _send_offer(
            ctx, tx, actor, exchange, agreement, in_reply_to=listing.iri, message=message
        )


async def refuse_remote_offer(
    ctx: NodeContext, listing: Listing, *, offer_iri: str, sender_iri: str, reason: str
) -> None:
    """Answer a genuine ``Offer`` from another node that ``listing`` cannot take
    with ``Reject{Offer}``, ``content`` the reason: the sender's node then
    closes its side of the exchange as declined instead of waiting forever.
    Nothing of the exchange is kept here."""
    async with ctx.storage.transaction() as tx:
        author = await tx.get_member(listing.member_id) if listing.member_id else None
        if author is None:
            return
        actor = member_actor(ctx, author)
        _, iri = new_activity_iri(ctx)
        await publish_activity(ctx, tx, actor, builders.reject_offer(
            id=iri, actor=actor.iri, offer_id=offer_iri, to=[sender_iri],
            reason=_html(reason), published=now_text(),
        ))


async def check_counter_terms(session: Session, exchange: Exchange, terms: Terms) -> Listing:
    """The listing of ``exchange``, once it allows ``terms``: the one rule behind
    a counter-offer (or a fresh offer after a rejection) by a member here and one
    from the other party's node, whichever party sends it. Only the terms are
    checked, against this node's copy of the listing: its status is left to
    the listing's node, which refuses to hold a closed listing on acceptance."""
    listing = await session.get_listing_by_seq(exchange.listing_seq or -1)
    if listing is None:
        raise NotFound("the listing of this exchange is gone")
    check_terms(listing, terms)
    return listing


async def decline_remote_counter(
    ctx: NodeContext, session: Session, exchange: Exchange, *, sender_iri: str, reason: str
) -> Exchange:
    """Decline, in the local party's name, the pending counter-offer that just
    arrived from the other party's node and broke :func:`check_counter_terms`:
    ``Reject{Offer}`` with ``content`` the reason, applied here too, so both
    nodes end the exchange ``rejected`` and the responder may try again."""
    local = await local_actor_by_iri(ctx, other_party(exchange, sender_iri))
    assert local is not None, "an exchange found by our offer has a local party"
    return await _answer_pending(ctx, session, local, exchange, "Reject", reason)


async def counter_offer(
    ctx: NodeContext, member: Member, exchange_id: str, terms: Terms, message: str | None
) -> Exchange:
    """Answer the pending offer with different terms (a new Agreement)."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        exchange = await _own_exchange(tx, actor, exchange_id)
        next_state(exchange.state, "Offer", role_of(exchange, actor.iri))
        listing = await check_counter_terms(tx, exchange, terms)
        exchange = replace(
            exchange, quantity=terms.quantity, starts_at=terms.starts_at, ends_at=terms.ends_at
        )
        agreement = _sign(actor, build_agreement(
            listing, terms, agreement_iri=f"{ctx.urls.base}/agreements/{new_id()}",
            responder_iri=exchange.responder_iri,
        ))
        in_reply_to = exchange.pending_offer_iri or listing.iri
        return await _send_offer(
            ctx, tx, actor, exchange, agreement, in_reply_to=in_reply_to, message=message
        )


async def accept(ctx: NodeContext, member: Member, exchange_id: str) -> Exchange:
    """Accept the pending offer: both parties have now signed the same Agreement."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        exchange = await _own_exchange(tx, actor, exchange_id)
        next_state(exchange.state, "Accept", role_of(exchange, actor.iri))
        assert exchange.agreement is not None and exchange.pending_offer_iri is not None
        final = _sign(actor, exchange.agreement)
        _, accept_iri = new_activity_iri(ctx)
        activity = builders.accept_offer(
            id=accept_iri, actor=actor.iri, offer_id=exchange.pending_offer_iri,
            agreement=final, to=[other_party(exchange, actor.iri)], published=now_text(),
        )
        exchange = await apply_activity(
            ctx, tx, exchange, activity_type="Accept", actor_iri=actor.iri,
            activity_iri=accept_iri,
        )
        exchange = replace(exchange, agreement=final)
        await tx.save_exchange(exchange)
        await publish_activity(ctx, tx, actor, activity)
        return exchange


async def answer_offer(
    ctx: NodeContext, member: Member, exchange_id: str, kind: str, reason: str | None
) -> Exchange:
    """Reject the pending offer, or (its sender) withdraw it with Undo."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        exchange = await _own_exchange(tx, actor, exchange_id)
        next_state(exchange.state, kind, role_of(exchange, actor.iri))
        return await _answer_pending(ctx, tx, actor, exchange, kind, reason)


async def _answer_pending(
    ctx: NodeContext, session: Session, actor: LocalActor, exchange: Exchange, kind: str,
    reason: str | None,
) -> Exchange:
    """``actor``'s Reject (or, its sender's, Undo) of the pending offer: applied
    here and sent to the other party."""
    assert exchange.pending_offer_iri is not None
    _, iri = new_activity_iri(ctx)
    to = [other_party(exchange, actor.iri)]
    if kind == "Reject":
        activity = builders.reject_offer(
            id=iri, actor=actor.iri, offer_id=exchange.pending_offer_iri, to=to,
            reason=_html(reason), published=now_text(),
        )
    else:
        activity = builders.withdraw_offer(
            id=iri, actor=actor.iri, offer_id=exchange.pending_offer_iri, to=to,
            published=now_text(),
        )
    exchange = await apply_activity(
        ctx, session, exchange, activity_type=kind, actor_iri=actor.iri, activity_iri=iri,
        content=reason,
    )
    await publish_activity(ctx, session, actor, activity)
    return exchange


async def lifecycle(
    ctx: NodeContext, member: Member, exchange_id: str, action: str, content: str | None
) -> Exchange:
    """Handover, return, complete, cancel, no-show or dispute."""
    kind = _LIFECYCLE.get(action)
    if kind is None:
        raise NotFound(f"no exchange action {action!r}")
    if kind in _NEEDS_REASON and not (content or "").strip():
        raise ValidationFailed(
            f"{action} needs a reason", errors=[{"pointer": "/content", "reason": "required"}]
        )
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        exchange = await _own_exchange(tx, actor, exchange_id)
        assert exchange.agreement_iri is not None
        _, iri = new_activity_iri(ctx)
        activity = builders.exchange_activity(
            type=kind, id=iri, actor=actor.iri, agreement_id=exchange.agreement_iri,
            to=[other_party(exchange, actor.iri)], content=_html(content), published=now_text(),
        )
        exchange = await apply_activity(
            ctx, tx, exchange, activity_type=kind, actor_iri=actor.iri, activity_iri=iri,
            content=content,
        )
        await publish_activity(ctx, tx, actor, activity)
        return exchange


async def send_message(
    ctx: NodeContext, member: Member, exchange_id: str, text: str
) -> dict[str, Any]:
    """A private message to the other party, addressed to them alone."""
    if not 0 < len(text.strip()) <= 5000:
        raise ValidationFailed("a message is 1 to 5000 characters")
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        exchange = await _own_exchange(tx, actor, exchange_id)
        recipient = other_party(exchange, actor.iri)
        note_iri = f"{ctx.urls.base}/notes/{new_id()}"
        now = now_text()
        note = builders.private_message(
            id=note_iri, author=actor.iri, recipient=recipient, content=text_to_html(text),
            agreement_id=exchange.agreement_iri or exchange.proposal_iri, published=now,
        )
        await tx.add_message(ExchangeMessage(
            iri=note_iri, exchange_id=exchange.id, author_iri=actor.iri, content=text,
            published=now, document=note,
        ))
        _, create_iri = new_activity_iri(ctx)
        create = builders.create(
            id=create_iri, actor=actor.iri, object=note, to=[recipient], published=now
        )
        await publish_activity(ctx, tx, actor, create)
        await notify_party(ctx, tx, exchange, recipient, "message", f"{actor.iri} wrote")
        return note
