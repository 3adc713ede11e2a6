"""Pooled pledges: a listing's ``Pool`` section, the signed ``Pledge`` a member
sends in an ``Offer``, and the proposer's signed ``PoolOutcome``.

A pool is a Proposal with a ``pool`` section (goal, deadline as AS ``endTime``,
what each participant receives, progress). Members pledge with
``Offer{Pledge}`` and withdraw with ``Undo{Offer}`` before the deadline; after
it the proposer's node answers every counted pledge with ``Accept`` (the pool
succeeded) or ``Reject`` (it failed), whose ``result`` is the outcome.
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


def pool(
    *,
    goal_kind: str,
    goal: JsonDict,
    end_time: Timestamp,
    currency: str | None = None,
    participant_receives: str | None = None,
    maximum_pledge: JsonDict | None = None,
    pledged: JsonDict | None = None,
    pledge_count: int | None = None,
    pool_state: str = "open",
    outcome: str | None = None,
) -> JsonDict:
    """The ``pool`` section of a Proposal. ``currency`` (an IRI, as
    ``resourceConformsTo``) names the money of a ``money`` goal; ``pledged``,
    ``pledge_count``, ``pool_state`` and ``outcome`` are the progress the
    proposer's node publishes."""
    return drop_unset({
        "type": "Pool",
        "goalKind": goal_kind,
        "goal": goal,
        "resourceConformsTo": currency,
        "endTime": timestamp(end_time),
        "participantReceives": participant_receives,
        "maximumPledge": maximum_pledge,
        "pledged": pledged,
        "pledgeCount": pledge_count,
        "poolState": pool_state,
        "outcome": outcome,
    })


def pledge(
    *,
    id: str,
    author: str,
    proposal_id: str,
    quantity: JsonDict,
    currency: str | None = None,
    content: str | None = None,
    published: Timestamp = None,
) -> JsonDict:
    """A ``Pledge`` towards the pool of ``proposal_id``: ``quantity`` is the
    amount (money in ``currency``), the number of places (1) or the quantity
    pledged. The pledger signs it, so the proposer's count is checkable."""
    return with_context(drop_unset({
        "id": id,
        "type": "Pledge",
        "attributedTo": author,
        "inReplyTo": proposal_id,
        "resourceQuantity": quantity,
        "resourceConformsTo": currency,
        "content": content,
        "published": timestamp(published),
    }))


def pledge_offer(
    *,
    id: str,
    actor: str,
    pledge: JsonDict,
    proposal_id: str,
    to: str | Iterable[str],
    published: Timestamp = None,
) -> JsonDict:
    """``Offer{Pledge}`` to the proposer; ``inReplyTo`` and ``context`` are the
    Proposal, as for an exchange offer. Withdrawn with ``Undo`` of the Offer."""
    return with_context({
        "id": id,
        "type": "Offer",
        "actor": actor,
        "object": embedded(pledge),
        "inReplyTo": proposal_id,
        "context": proposal_id,
        "published": timestamp(published),
        "to": ids(to),
    })


def pool_commitment(
    *,
    id: str,
    pledge_id: str,
    pledger: str,
    proposer: str,
    quantity: JsonDict,
    currency: str | None = None,
) -> JsonDict:
    """One confirmed pledge in a succeeded outcome: a ValueFlows ``Commitment``
    by the pledger (``provider``) to the proposer (``receiver``) that
    ``satisfies`` the Pledge. Money moves outside Kula; this records who
    committed to what."""
    return drop_unset({
        "id": id,
        "type": "Commitment",
        "satisfies": pledge_id,
        "action": "transfer" if currency else None,
        "resourceConformsTo": currency,
        "resourceQuantity": quantity,
        "provider": pledger,
        "receiver": proposer,
    })


def pool_outcome(
    *,
    id: str,
    author: str,
    proposal_id: str,
    pool_state: str,
    goal_kind: str,
    goal: JsonDict,
    end_time: Timestamp,
    pledged: JsonDict,
    pledge_count: int,
    currency: str | None = None,
    commitments: Iterable[JsonDict] = (),
    released: Iterable[str] = (),
    published: Timestamp = None,
) -> JsonDict:
    """The ``PoolOutcome`` the proposer signs when the deadline has passed:
    ``commitments`` when the goal was met, ``released`` pledge ids otherwise."""
    return with_context(drop_unset({
        "id": id,
        "type": "PoolOutcome",
        "attributedTo": author,
        "context": proposal_id,
        "poolState": pool_state,
        "goalKind": goal_kind,
        "goal": goal,
        "resourceConformsTo": currency,
        "endTime": timestamp(end_time),
        "pledged": pledged,
        "pledgeCount": pledge_count,
        "commitments": list(commitments),
        "released": list(released),
        "published": timestamp(published),
    }))


def pledge_answer(
    *,
    type: str,
    id: str,
    actor: str,
    offer_id: str,
    to: str | Iterable[str],
    outcome: JsonDict | str | None = None,
    reason: str | None = None,
    published: Timestamp = None,
) -> JsonDict:
    """``Accept`` (the pledge is now a commitment) or ``Reject`` (released, or
    refused with ``reason``) of a pledge Offer; ``result`` is the signed
    outcome, embedded verbatim or by its id."""
    if type not in ("Accept", "Reject"):
        raise ValueError("a pledge is answered with Accept or Reject")
    return with_context(drop_unset({
        "id": id,
        "type": type,
        "actor": actor,
        "object": offer_id,
        "result": embedded(outcome) if outcome is not None else None,
        "content": reason,
        "published": timestamp(published),
        "to": ids(to),
    }))
