"""Exchange activities from the other party's node: offers, answers and the
lifecycle. Each is checked against the same state machine the sender used;
one that arrives early (a Handover before the Accept it follows) is retried,
one that can never apply is rejected and never applied. A genuine Offer that a
local listing cannot take (closed, a pool, terms it does not allow) is also
answered with ``Reject{Offer}``, so the sender's node learns of it; so is a
counter-offer whose terms the listing does not allow."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from node.errors import Conflict, Forbidden, NodeError
from node.federation.policy import host_of
from node.federation.remote_actors import RemoteActors
from node.federation.remote_listings import html_to_text
from node.ids import new_id
from node.services import exchanges
from node.services.actors import local_actor_by_iri
from node.services.context import NodeContext
from node.services.exchange_state import apply_activity, notify_party, other_party, role_of
from node.services.exchange_terms import Terms, check_takes_offers, check_terms
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from node.storage.records import Exchange, ExchangeMessage, Listing
from node.timeutil import now_text, parse_text
from node.workers.jobs import RetryLater
from protocol import builders
from protocol.errors import ExchangeStateError, ProofError
from protocol.exchange_states import TRANSITIONS, ExchangeState
from protocol.key_ownership import check_key_ownership, proof_verification_methods
from protocol.normalize import id_of
from protocol.proofs import verify_proof_set
from protocol.validation import validate

S = ExchangeState
LIFECYCLE_TYPES = ("Handover", "Return", "Complete", "Cancel", "NoShow", "Dispute")
#: How far along the lifecycle each state is; an activity valid only from a
#: later state than the current one has arrived early.
_PROGRESS = {
    S.NEW: 0, S.OFFERED: 1, S.COUNTERED: 1, S.REJECTED: 1, S.WITHDRAWN: 1, S.AGREED: 2,
    S.HANDED_OVER: 3, S.ON_LOAN: 3, S.NO_SHOW: 3, S.RETURNED: 4, S.DISPUTED: 4,
    S.COMPLETED_BY_PROPOSER: 5, S.COMPLETED_BY_RESPONDER: 5, S.CANCELLED: 6, S.COMPLETED: 6,
}


def _without_proof(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "proof"}


async def signed_by(ctx: NodeContext, agreement: dict[str, Any], parties: list[str]) -> set[str]:
    """The parties whose own key made a valid proof on ``agreement``."""
    actors = RemoteActors(ctx)
    keys = {}
    for method in proof_verification_methods(agreement):
        for party in parties:
            if host_of(method) != host_of(party):
                continue
            document = (await actors.get(party)).document
            try:
                keys[method] = (party, check_key_ownership(method, document))
            except ProofError:
                continue
    if not keys:
        return set()
    verified = verify_proof_set(agreement, {method: key for method, (_, key) in keys.items()})
    return {keys[method][0] for method in verified}


#: The most a schema-valid agreement may ask for: what a listing can offer at most.
_MAX_QUANTITY = 1_000_000


def _terms_of(agreement: dict[str, Any]) -> Terms:
    """The terms of a schema-valid Agreement; a quantity or date that no
    listing could hold is refused here rather than crash the worker later."""
    primary = agreement["stipulates"]
    quantity = (primary.get("resourceQuantity") or {}).get("hasNumericalValue", "1")
    try:
        count = int(float(str(quantity)))
        for moment in (primary.get("hasBeginning"), primary.get("hasEnd")):
            if moment is not None:
                parse_text(moment)
    except (ValueError, OverflowError) as exc:
        raise Forbidden(f"the agreement's terms are unreadable: {exc}") from exc
    if not 1 <= count <= _MAX_QUANTITY:
        raise Forbidden(f"the agreement's quantity must be between 1 and {_MAX_QUANTITY}")
    return Terms(quantity=count, starts_at=primary.get("hasBeginning"),
                 ends_at=primary.get("hasEnd"))


def _check_agreement(agreement: Any, proposal_iri: str, sender: str) -> dict[str, Any]:
    if not isinstance(agreement, dict) or agreement.get("type") != "Agreement":
        raise Forbidden("an Offer must carry an Agreement")
    validate(agreement, "agreement")
    agreement_iri = id_of(agreement)
    if agreement_iri is None or host_of(agreement_iri) != host_of(sender):
        raise Forbidden("the Agreement's id must be on the sender's origin")
    primary = agreement.get("stipulates") or {}
    if primary.get("satisfies") != f"{proposal_iri}#primary":
        raise Forbidden("the Agreement does not answer this listing")
    return agreement


async def _apply(
    ctx: NodeContext, session: Session, exchange: Exchange, activity: dict[str, Any], kind: str,
    **options: Any,
) -> Exchange:
    content = activity.get("content")
    try:
        return await apply_activity(
            ctx, session, exchange, activity_type=kind, actor_iri=activity["actor"],
            activity_iri=activity["id"], **options,
            # A reason or note arrives as HTML; Kula keeps and shows plain text.
            content=html_to_text(content) if isinstance(content, str) else None,
        )
    except ExchangeStateError as exc:
        sources = [state for (state, activity_type) in TRANSITIONS if activity_type == kind]
        current = _PROGRESS[S(exchange.state)]
        if sources and all(_PROGRESS[state] > current for state in sources):
            raise RetryLater(f"{kind} arrived before the exchange reached it") from exc
        raise


async def _opening_terms(
    ctx: NodeContext, activity: dict[str, Any], sender: str, agreement: dict[str, Any],
    listing: Listing,
) -> Terms:
    """The terms of a genuine Offer that opens an exchange on ``listing``, by the
    rules a member's offer here meets. One the listing cannot take is answered
    with ``Reject{Offer}`` before it is refused, since only then does the sender's
    exchange end. A forged Offer never gets this far and unreadable terms are
    only refused (no Kula node sends them); a ``Reject`` is never answered, so
    two nodes cannot loop."""
    terms = _terms_of(agreement)
    try:
        check_takes_offers(listing)
        check_terms(listing, terms)
    except NodeError as exc:
        await exchanges.refuse_remote_offer(
            ctx, listing, offer_iri=activity["id"], sender_iri=sender, reason=exc.detail
        )
        raise
    return terms


async def _counter_refusal(
    ctx: NodeContext, session: Session, exchange: Exchange, sender: str, terms: Terms
) -> NodeError | None:
    """Why a counter-offer just recorded on ``exchange`` breaks the rule a member's
    counter here meets, or None. One that does is declined at once, in the same
    transaction, with ``Reject{Offer}``: the counter never stands, and both nodes
    end the exchange ``rejected``. The refusal is raised once that commits, so
    the inbox records it as it does for an opening Offer."""
    try:
        await exchanges.check_counter_terms(session, exchange, terms)
    except NodeError as exc:
        await exchanges.decline_remote_counter(
            ctx, session, exchange, sender_iri=sender, reason=exc.detail
        )
        return exc
    return None


async def handle_offer(ctx: NodeContext, activity: dict[str, Any]) -> str:
    sender = id_of(activity.get("actor")) or ""
    in_reply_to = id_of(activity.get("inReplyTo")) or ""
    async with ctx.storage.read() as session:
        exchange = await session.get_exchange_by_offer(in_reply_to)
        listing = await session.get_listing_by_iri(in_reply_to) if exchange is None else None
    if exchange is None and (listing is None or listing.member_id is None):
        return "ignored: the offer answers nothing of this node"
    proposal_iri = exchange.proposal_iri if exchange else in_reply_to
    agreement = _check_agreement(activity.get("object"), proposal_iri, sender)
    if exchange is not None:
        parties = {exchange.proposer_iri, exchange.responder_iri}
    else:
        parties = {listing.author_iri if listing else "", sender}
    primary = agreement.get("stipulates") or {}
    if {primary.get("provider"), primary.get("receiver")} != parties:
        raise Forbidden("the Agreement's provider and receiver must be the two parties")
    if sender not in await signed_by(ctx, agreement, [sender]):
        raise Forbidden("the offered Agreement is not signed by its sender")
    if exchange is None:
        assert listing is not None
        if sender == listing.author_iri:
            raise Forbidden("an author cannot answer their own listing")
        terms = await _opening_terms(ctx, activity, sender, agreement, listing)
    else:
        terms = _terms_of(agreement)
    # An Offer on an exchange already here counters the pending offer (or, after
    # a rejection, tries again): it meets the rule of a member's counter here.
    countering = exchange is not None
    refusal: NodeError | None = None
    async with ctx.storage.transaction() as tx:
        if exchange is None:
            assert listing is not None
            now = now_text()
            exchange = Exchange(
                id=new_id(), proposal_iri=listing.iri, listing_seq=listing.seq,
                proposer_iri=listing.author_iri, responder_iri=sender, mode=listing.mode,
                state=S.NEW.value, pending_offer_iri=None, pending_offer_role=None,
                agreement_iri=None, agreement=None, quantity=terms.quantity,
                starts_at=terms.starts_at, ends_at=terms.ends_at, holds_availability=False,
                reason=None, created_at=now, updated_at=now,
            )
            await tx.save_exchange(exchange)
        elif exchange.pending_offer_iri != in_reply_to:
            raise Conflict("the counter-offer answers an offer that is no longer pending")
        role = role_of(exchange, sender)
        exchange = replace(exchange, quantity=terms.quantity, starts_at=terms.starts_at,
                           ends_at=terms.ends_at)
        exchange = await _apply(ctx, tx, exchange, activity, "Offer")
        exchange = replace(exchange, pending_offer_iri=activity["id"],
                           pending_offer_role=role.value, agreement_iri=agreement["id"],
                           agreement=agreement)
        await tx.save_exchange(exchange)
        await tx.add_offer(activity["id"], exchange.id, agreement["id"], role.value, now_text())
        if countering:
            refusal = await _counter_refusal(ctx, tx, exchange, sender, terms)
    if refusal is not None:
        raise refusal
    return "applied: offer"


async def _auto_cancel(
    ctx: NodeContext, session: Session, exchange: Exchange, reason: str
) -> Exchange:
    """The listing's owner node refuses an acceptance it can no longer honour."""
    local_iri = exchange.proposer_iri
    local = await local_actor_by_iri(ctx, local_iri)
    assert local is not None and exchange.agreement_iri is not None
    _, iri = new_activity_iri(ctx)
    cancel = builders.cancel(
        id=iri, actor=local_iri, agreement_id=exchange.agreement_iri,
        to=[exchange.responder_iri], reason=reason, published=now_text(),
    )
    exchange = await apply_activity(
        ctx, session, exchange, activity_type="Cancel", actor_iri=local_iri, activity_iri=iri,
        content=reason,
    )
    await publish_activity(ctx, session, local, cancel)
    return exchange


async def handle_offer_answer(
    ctx: NodeContext, activity: dict[str, Any], kind: str, exchange: Exchange
) -> str:
    """Accept, Reject or Undo of an offer of this exchange."""
    if id_of(activity.get("object")) != exchange.pending_offer_iri:
        raise Conflict("the answer is to an offer that is no longer pending")
    final = None
    if kind == "Accept":
        final = activity.get("result")
        pending = exchange.agreement or {}
        if not isinstance(final, dict) or _without_proof(final) != _without_proof(pending):
            raise Forbidden("the accepted Agreement differs from the one offered")
        parties = [exchange.proposer_iri, exchange.responder_iri]
        if await signed_by(ctx, final, parties) != set(parties):
            raise Forbidden("the accepted Agreement is not signed by both parties")
    async with ctx.storage.transaction() as tx:
        try:
            exchange = await _apply(ctx, tx, exchange, activity, kind)
        except Conflict as exc:
            if kind != "Accept":
                raise
            exchange = await _apply(ctx, tx, exchange, activity, kind, hold_availability=False)
            exchange = replace(exchange, agreement=final)
            await tx.save_exchange(exchange)
            await _auto_cancel(ctx, tx, exchange, f"no longer available: {exc.detail}")
            return "applied: accepted, then cancelled as unavailable"
        if final is not None:
            exchange = replace(exchange, agreement=final)
            await tx.save_exchange(exchange)
    return f"applied: {kind.lower()}"


async def handle_lifecycle(ctx: NodeContext, activity: dict[str, Any]) -> str:
    kind = str(activity.get("type"))
    agreement_iri = id_of(activity.get("object")) or ""
    async with ctx.storage.transaction() as tx:
        exchange = await tx.get_exchange_by_agreement(agreement_iri)
        if exchange is None:
            return "ignored: no such exchange here"
        await _apply(ctx, tx, exchange, activity, kind)
    return f"applied: {kind}"


async def store_message(ctx: NodeContext, activity: dict[str, Any]) -> str | None:
    """A private message within an exchange; None when the note is not one."""
    note = activity.get("object")
    context = id_of(note.get("context")) if isinstance(note, dict) else None
    if not context:
        return None
    sender = id_of(activity.get("actor")) or ""
    async with ctx.storage.transaction() as tx:
        exchange = await tx.get_exchange_by_any_agreement(context)
        if exchange is None:
            return None
        role_of(exchange, sender)
        if id_of(note.get("attributedTo")) != sender:
            raise Forbidden("a message's author must be the sender")
        text = html_to_text(str(note.get("content") or ""))[:5000]
        stored = await tx.add_message(ExchangeMessage(
            iri=id_of(note) or activity["id"], exchange_id=exchange.id, author_iri=sender,
            content=text, published=note.get("published") or now_text(), document=note,
        ))
        if stored:
            await notify_party(
                ctx, tx, exchange, other_party(exchange, sender), "message", f"{sender} wrote"
            )
    return "applied: message"
