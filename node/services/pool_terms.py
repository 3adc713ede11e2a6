"""A listing's pool as the API takes it, and as the wire and the database keep it.

The API speaks ``pool: {goal: {kind, amount, currency|unit}, deadline,
receives, maximum_pledge}``; this module checks those terms, turns them into
the Proposal's ``pool`` section (with the progress the node adds under
``progress``) and opens the pool's row when the listing is created. It also
holds the pool problems the API answers with.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from node.errors import Conflict, Forbidden, NodeError, NotFound, ValidationFailed
from node.storage.base import Session
from node.storage.queries.pools import Pool
from node.storage.records import Listing
from node.timeutil import now_text, parse_text, to_text, utc_now
from protocol.builders.listing import measure
from protocol.builders.pools import pool as pool_section_builder
from protocol.currency import COUNT_UNIT, currency_iri
from protocol.pools import GoalKind, PoolError, PoolState, PoolTerms, decimal_text, read_pool


class NotAPool(NotFound):
    type_slug = "not-a-pool"
    title = "The listing is not a pool"


class PoolClosed(Conflict):
    type_slug = "pool-closed"
    title = "The pool takes no more pledges or withdrawals"


class PoolFull(Conflict):
    type_slug = "pool-full"
    title = "The pool counts no more pledges"


class PledgeExists(Conflict):
    type_slug = "pledge-exists"
    title = "There is already a live pledge by this member to this pool"


class PledgeOutOfBounds(ValidationFailed):
    type_slug = "pledge-out-of-bounds"
    title = "The pledge does not fit the pool's unit or limits"


class PoolTakesNoOffers(ValidationFailed):
    type_slug = "pool-takes-no-offers"
    title = "A pool takes pledges, not exchange offers"


def is_pool(listing: Listing) -> bool:
    """Whether ``listing`` (here or remote) is a pool: its Proposal has a pool section."""
    return isinstance(listing.document.get("pool"), dict)


def node_error(error: PoolError) -> NodeError:
    """The API problem for a refused pool, pledge or outcome."""
    if error.reason == "closed":
        return PoolClosed(error.detail)
    if error.reason == "full":
        return PoolFull(error.detail)
    if error.reason == "amount":
        return PledgeOutOfBounds(
            error.detail, errors=[{"pointer": "/amount", "reason": error.detail}]
        )
    if error.reason == "malformed":
        return ValidationFailed(error.detail)
    return Forbidden(error.detail)


def _invalid(pointer: str, reason: str) -> ValidationFailed:
    return ValidationFailed(reason, errors=[{"pointer": pointer, "reason": reason}])


def _positive(text: str, pointer: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _invalid(pointer, "must be a decimal number such as 12.50") from None
    if not value.is_finite() or value <= 0:
        raise _invalid(pointer, "must be more than zero")
    return value


def _instant(text: str, pointer: str) -> datetime:
    # The schema's pattern admits impossible dates (month 13); refuse them here.
    try:
        return parse_text(text)
    except ValueError:
        raise _invalid(pointer, "not a real date and time") from None


def check_pool_terms(fields: dict[str, Any]) -> None:
    """Rules the request schema cannot say; run whenever a pool listing is checked."""
    pool = fields["pool"]
    goal = pool["goal"]
    kind = GoalKind(goal["kind"])
    amount = _positive(goal["amount"], "/pool/goal/amount")
    if kind is GoalKind.MONEY and not goal.get("currency"):
        raise _invalid("/pool/goal/currency", "a money goal names its currency")
    if kind is not GoalKind.MONEY and goal.get("currency"):
        raise _invalid("/pool/goal/currency", "only a money goal has a currency")
    if kind is not GoalKind.QUANTITY and goal.get("unit"):
        raise _invalid("/pool/goal/unit", "only a quantity goal has a unit")
    if kind is GoalKind.PARTICIPANTS:
        if amount != amount.to_integral_value():
            raise _invalid("/pool/goal/amount", "a number of participants is a whole number")
        if pool.get("maximum_pledge"):
            raise _invalid("/pool/maximum_pledge", "each participant pledges one place")
    if pool.get("maximum_pledge"):
        _positive(pool["maximum_pledge"], "/pool/maximum_pledge")
    deadline = _instant(pool["deadline"], "/pool/deadline")
    expires = fields.get("expires_at")
    if expires and _instant(expires, "/expires_at") < deadline:
        raise _invalid("/pool/deadline", "the deadline must not be after the listing expires")


def goal_unit(pool: dict[str, Any]) -> str:
    return pool["goal"].get("unit") or COUNT_UNIT


def pool_section(pool: dict[str, Any]) -> dict[str, Any]:
    """The Proposal's ``pool`` section for the API's pool terms and progress."""
    goal = pool["goal"]
    unit = goal_unit(pool)
    progress = pool.get("progress") or {}
    return pool_section_builder(
        goal_kind=goal["kind"],
        goal=measure(unit=unit, value=goal["amount"]),
        end_time=pool["deadline"],
        currency=currency_iri(goal["currency"]) if goal.get("currency") else None,
        participant_receives=pool.get("receives"),
        maximum_pledge=(
            measure(unit=unit, value=pool["maximum_pledge"]) if pool.get("maximum_pledge")
            else None
        ),
        pledged=measure(unit=unit, value=progress.get("pledged", "0")),
        pledge_count=int(progress.get("count", 0)),
        pool_state=progress.get("state", PoolState.OPEN.value),
        outcome=progress.get("outcome"),
    )


def with_progress(
    fields: dict[str, Any], *, pledged: Decimal, count: int, state: str,
    outcome: str | None = None,
) -> dict[str, Any]:
    """``fields`` with the pool's progress replaced (a new dict)."""
    progress = {"pledged": decimal_text(pledged), "count": count, "state": state}
    if outcome is not None:
        progress["outcome"] = outcome
    return {**fields, "pool": {**fields["pool"], "progress": progress}}


def pool_record(terms: PoolTerms, listing: Listing, *, local: bool) -> Pool:
    """The row that keeps a pool: counted here (``local``) or pledged to from here."""
    return Pool(
        listing_iri=listing.iri, listing_seq=listing.seq, local=local,
        author_iri=terms.author, goal_kind=terms.kind.value,
        goal_amount=decimal_text(terms.goal), unit=terms.unit, currency=terms.currency,
        maximum_pledge=(
            decimal_text(terms.maximum_pledge) if terms.maximum_pledge is not None else None
        ),
        deadline=to_text(terms.deadline), state=PoolState.OPEN.value,
        outcome_iri=None, outcome=None, settled_at=None, claimed_until=None,
        created_at=now_text(),
    )


async def open_pool(session: Session, listing: Listing) -> None:
    """Start counting pledges for a listing just created with pool terms.
    Runs in the listing's own transaction, so a refusal creates neither."""
    pool = listing.fields["pool"]
    if parse_text(pool["deadline"]) <= utc_now():
        raise _invalid("/pool/deadline", "the deadline must be in the future")
    if listing.expires_at and parse_text(listing.expires_at) < parse_text(pool["deadline"]):
        raise _invalid("/pool/deadline", "the deadline is after the listing expires; "
                                         "set expires_at later")
    terms = read_pool(listing.document)
    assert terms is not None
    await session.insert_pool(pool_record(terms, listing, local=True))
