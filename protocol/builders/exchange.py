"""Negotiating an exchange, after FEP-0837: ``Offer{Agreement}``, ``Accept``,
``Reject``, and Kula's counter-offer and withdrawal.

A counter-offer is an ``Offer`` of a new ``Agreement`` whose ``inReplyTo`` is the
previous ``Offer``; the first offer's ``inReplyTo`` is the ``Proposal``. A
withdrawal is ``Undo{Offer}`` before the offer is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol.builders._common import (
    JsonDict,
    Timestamp,
    drop_unset,
    embedded,
    ids,
    timestamp,
    with_context,
)
from protocol.vocab import ExchangeMode, VfAction


def commitment(
    *,
    satisfies: str,
    action: VfAction | str,
    resource_quantity: JsonDict,
    id: str | None = None,
    resource_conforms_to: str | None = None,
    provider: str | None = None,
    receiver: str | None = None,
    has_beginning: Timestamp | None = None,
    has_end: Timestamp | None = None,
) -> JsonDict:
    """A ValueFlows ``Commitment`` satisfying one intent of a proposal.

    ``id`` may be omitted while negotiating (FEP-0837) and is required once
    the agreement is final. ``has_beginning``/``has_end`` bound a rental or loan.
    """
    return drop_unset({
        "id": id,
        "type": "Commitment",
        "satisfies": satisfies,
        "action": str(action),
        "resourceConformsTo": resource_conforms_to,
        "resourceQuantity": resource_quantity,
        "provider": provider,
        "receiver": receiver,
        "hasBeginning": timestamp(has_beginning) if has_beginning is not None else None,
        "hasEnd": timestamp(has_end) if has_end is not None else None,
    })


def agreement(
    *,
    stipulates: JsonDict,
    id: str | None = None,
    stipulates_reciprocal: JsonDict | None = None,
    exchange_mode: ExchangeMode | str | None = None,
    deposit: JsonDict | None = None,
    url: str | JsonDict | None = None,
) -> JsonDict:
    """A ValueFlows ``Agreement``: the primary commitment and, unless the
    exchange is a gift or a loan, the reciprocal one."""
    return drop_unset({
        "id": id,
        "type": "Agreement",
        "exchangeMode": ExchangeMode(exchange_mode).value if exchange_mode else None,
        "stipulates": stipulates,
        "stipulatesReciprocal": stipulates_reciprocal,
        "deposit": deposit,
        "url": url,
    })


def offer(
    *,
    id: str,
    actor: str,
    agreement: JsonDict,
    in_reply_to: str,
    to: str | Iterable[str],
    context: str | None = None,
    content: str | None = None,
    published: Timestamp = None,
) -> JsonDict:
    """``Offer{Agreement}``: an answer to a proposal (``in_reply_to`` the
    Proposal) or a counter-offer (``in_reply_to`` the previous Offer);
    ``context`` is the Proposal, so every offer of one negotiation shares it."""
    return with_context(drop_unset({
        "id": id,
        "type": "Offer",
        "actor": actor,
        "object": embedded(agreement),
        "inReplyTo": in_reply_to,
        "context": context,
        "content": content,
        "published": timestamp(published),
        "to": ids(to),
    }))


def accept_offer(
    *,
    id: str,
    actor: str,
    offer_id: str,
    agreement: JsonDict,
    to: str | Iterable[str],
    published: Timestamp = None,
) -> JsonDict:
    """``Accept{Offer}`` with ``result`` the finalised Agreement (ids on it and
    on both commitments, quantities as offered)."""
    if "id" not in agreement:
        raise ValueError("a finalised agreement needs an id")
    return with_context({
        "id": id,
        "type": "Accept",
        "actor": actor,
        "object": offer_id,
        "result": embedded(agreement),
        "published": timestamp(published),
        "to": ids(to),
    })


def reject_offer(
    *,
    id: str,
    actor: str,
    offer_id: str,
    to: str | Iterable[str],
    reason: str | None = None,
    published: Timestamp = None,
) -> JsonDict:
    """``Reject{Offer}``, with the reason as ``content`` when one is given."""
    return with_context(drop_unset({
        "id": id,
        "type": "Reject",
        "actor": actor,
        "object": offer_id,
        "content": reason,
        "published": timestamp(published),
        "to": ids(to),
    }))


def withdraw_offer(
    *, id: str, actor: str, offer_id: str, to: str | Iterable[str], published: Timestamp = None
) -> JsonDict:
    """``Undo{Offer}``: the sender takes back an offer nobody has accepted yet."""
    return with_context({
        "id": id,
        "type": "Undo",
        "actor": actor,
        "object": offer_id,
        "published": timestamp(published),
        "to": ids(to),
    })
