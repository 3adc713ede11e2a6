"""How a pool looks to members and pages: progress, time left, the outcome
and the viewer's own pledges. HTML pages and the API call :func:`pool_view`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from node.services.context import NodeContext
from node.services.pools import listing_by_id, live_total, pool_terms
from node.storage.queries.pools import Pledge
from node.storage.records import Member
from node.timeutil import to_text, utc_now
from protocol.pools import PoolState, PoolTerms, check_outcome, decimal_text


def outcome_view(outcome: dict[str, Any]) -> dict[str, Any]:
    """A stored (made or verified) outcome as the API shows it, with the signed document."""
    entries = check_outcome(
        outcome, proposal_id=outcome["context"], author=outcome["attributedTo"]
    )
    committed = outcome["poolState"] == PoolState.SUCCEEDED.value
    return {
        "iri": outcome["id"],
        "state": outcome["poolState"],
        "published": outcome.get("published"),
        "commitments": [
            {"pledge": e.pledge, "pledger": e.pledger,
             "amount": decimal_text(e.amount) if e.amount is not None else None}
            for e in entries
        ] if committed else [],
        "released": [] if committed else [e.pledge for e in entries],
        "document": outcome,
    }


def pledge_json(pledge: Pledge, terms: PoolTerms | None = None) -> dict[str, Any]:
    """A pledge as the API shows it."""
    return {
        "id": pledge.id,
        "iri": pledge.iri,
        "pool": pledge.pool_iri,
        "pledger": pledge.pledger_iri,
        "amount": pledge.amount,
        "unit": terms.unit if terms else None,
        "currency": terms.currency if terms else None,
        "state": pledge.state,
        "reason": pledge.reason,
        "created_at": pledge.created_at,
        "updated_at": pledge.updated_at,
    }


async def pool_view(
    ctx: NodeContext, listing_id: str, viewer: Member | None = None
) -> dict[str, Any]:
    """The pool of a listing with its progress, time left and, once closed,
    its outcome: what the API's ``GET .../pool`` and the listing page show."""
    async with ctx.storage.read() as session:
        listing = await listing_by_id(session, listing_id)
        terms = pool_terms(listing)
        pool = await session.get_pool(listing.iri)
        local = listing.member_id is not None
        if local:
            pledged, live = await live_total(session, listing.iri)
            count = len(live)
        else:
            pledged, count = terms.pledged, terms.pledge_count
        mine = (
            await session.list_member_pledges(viewer.id, listing.iri) if viewer else []
        )
    state = pool.state if pool is not None and pool.state != "open" else terms.state.value
    outcome = pool.outcome if pool is not None else None
    if outcome is not None:
        pledged = Decimal(outcome["pledged"]["hasNumericalValue"])
        count = int(outcome["pledgeCount"])
    left = max(0, int((terms.deadline - utc_now()).total_seconds()))
    return {
        "listing": listing.id,
        "listing_iri": listing.iri,
        "author": terms.author,
        "local": local,
        "goal": {"kind": terms.kind.value, "amount": decimal_text(terms.goal),
                 "unit": terms.unit, "currency": terms.currency},
        "receives": terms.participant_receives,
        "maximum_pledge": (decimal_text(terms.maximum_pledge)
                           if terms.maximum_pledge is not None else None),
        "deadline": to_text(terms.deadline),
        "seconds_left": left,
        "pledged": decimal_text(pledged),
        "pledge_count": count,
        "goal_met": terms.goal_met(pledged),
        "state": state,
        "outcome_iri": (pool.outcome_iri if pool and pool.outcome_iri else terms.outcome),
        "outcome": outcome_view(outcome) if outcome is not None else None,
        "your_pledges": [pledge_json(p, terms) for p in mine],
    }
