"""Applying one exchange activity: the shared step behind a member's action
and an activity from the other party's node.

The state machine (``protocol.exchange_states``) decides whether the activity
may happen; this module records it, moves the listing's availability on the
node that owns the listing, and tells the local party.
"""

from __future__ import annotations

from dataclasses import replace

from node.errors import Conflict
from node.services import availability
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Exchange
from node.timeutil import now_text
from protocol.exchange_states import ExchangeState, Role, next_state

S = ExchangeState
#: Outcomes that give a held quantity or booking back to the listing.
_RELEASING = {S.CANCELLED, S.NO_SHOW, S.RETURNED}

_SUMMARIES = {
    "Offer": "{actor} made an offer",
    "Accept": "{actor} accepted the offer",
    "Reject": "{actor} declined the offer",
    "Undo": "{actor} withdrew the offer",
    "Handover": "{actor} confirmed the handover",
    "Return": "{actor} confirmed the return",
    "Complete": "{actor} confirmed completion",
    "Cancel": "{actor} cancelled the exchange",
    "NoShow": "{actor} reported a no-show",
    "Dispute": "{actor} opened a dispute",
}


def role_of(exchange: Exchange, actor_iri: str) -> Role:
    if actor_iri == exchange.proposer_iri:
        return Role.PROPOSER
    if actor_iri == exchange.responder_iri:
        return Role.RESPONDER
    raise Conflict(f"{actor_iri} is not a party to this exchange")


def other_party(exchange: Exchange, actor_iri: str) -> str:
    return exchange.responder_iri if actor_iri == exchange.proposer_iri else exchange.proposer_iri


async def notify_party(
    ctx: NodeContext, session: Session, exchange: Exchange, recipient_iri: str,
    kind: str, summary: str,
) -> None:
    """Notify ``recipient_iri`` if it is a member of this node."""
    prefix = ctx.urls.base + "/users/"
    if not recipient_iri.startswith(prefix):
        return
    member = await session.get_member_by_username(recipient_iri[len(prefix):])
    if member is not None:
        await session.notify(member.id, kind, summary, exchange.id, now_text())


async def apply_activity(
    ctx: NodeContext,
    session: Session,
    exchange: Exchange,
    *,
    activity_type: str,
    actor_iri: str,
    activity_iri: str,
    content: str | None = None,
    hold_availability: bool = True,
) -> Exchange:
    """Move ``exchange`` by one activity; raise ExchangeStateError when out of order."""
    role = role_of(exchange, actor_iri)
    current = S(exchange.state)
    target = next_state(current, activity_type, role, returnable=exchange.starts_at is not None)
    now = now_text()
    updated = replace(exchange, state=target.value, updated_at=now)
    if activity_type in ("Cancel", "Dispute", "Reject", "NoShow") and content:
        updated = replace(updated, reason=content[:2000])
    if target is S.AGREED and hold_availability:
        updated = await availability.hold(ctx, session, updated)
    elif target in _RELEASING and exchange.holds_availability:
        updated = await availability.release(ctx, session, updated)
    elif target is S.COMPLETED:
        updated = await availability.settle(ctx, session, updated)
    await session.save_exchange(updated)
    recorded = await session.add_exchange_event(
        exchange_id=exchange.id, activity_iri=activity_iri, type=activity_type,
        actor_iri=actor_iri, role=role.value, from_state=current.value,
        to_state=target.value, content=content, now=now,
    )
    if not recorded:
        raise Conflict(f"activity {activity_iri} was already applied")
    summary = _SUMMARIES.get(activity_type, "{actor} sent " + activity_type)
    await notify_party(
        ctx, session, updated, other_party(exchange, actor_iri), "exchange",
        summary.format(actor=actor_iri),
    )
    return updated
