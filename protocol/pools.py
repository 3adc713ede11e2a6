"""Pooled pledges: reading a pool, checking a pledge, checking an outcome.

A pool is a Proposal with a ``pool`` section (:func:`read_pool`). A pledge
counts when it is bound to the Proposal, signed by its author, in the pool's
unit and within its limits, and reaches the proposer's node before
``endTime`` (:func:`check_pledge`). After the deadline the proposer signs a
``PoolOutcome``; :func:`verify_outcome` checks its proof and that it is
self-consistent, so every node can show the same, checkable result.

Amounts are :class:`~decimal.Decimal` throughout; they travel as decimal
strings. Nothing here does I/O: the author's actor document comes in as a
parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from protocol.currency import COUNT_UNIT, currency_code
from protocol.errors import ProtocolError
from protocol.key_ownership import verify_authored_object
from protocol.normalize import id_of
from protocol.validation import validate

__all__ = [
    "MAX_POOL_PLEDGES",
    "GoalKind",
    "OutcomeEntry",
    "PoolError",
    "PoolState",
    "PoolTerms",
    "check_amount",
    "check_outcome",
    "check_pledge",
    "decimal_text",
    "read_pool",
    "verify_outcome",
]

#: Most live pledges one pool counts: the outcome lists them all and must stay
#: well inside a receiver's document limits (256 KiB, 10 000 members).
MAX_POOL_PLEDGES = 400


class GoalKind(StrEnum):
    """``kula:goalKind``: what a pool counts."""

    MONEY = "money"
    PARTICIPANTS = "participants"
    QUANTITY = "quantity"


class PoolState(StrEnum):
    """``kula:poolState``: open until ``endTime``, then succeeded or failed."""

    OPEN = "open"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PoolError(ProtocolError):
    """A pool, pledge or outcome that cannot be accepted.

    ``reason`` says which rule: ``malformed`` (not a valid pool document),
    ``binding`` (a pledge not bound to this pool or not by its sender),
    ``closed`` (the deadline has passed or the pool is no longer open),
    ``amount`` (wrong unit, not positive, above the maximum), ``full`` (the pool
    counts no more pledges), ``outcome`` (an outcome that contradicts itself).
    """

    code = "pool-refused"

    def __init__(self, detail: str, *, reason: str, pointer: str | None = None) -> None:
        super().__init__(detail, pointer=pointer)
        self.reason = reason


def decimal_text(value: Decimal) -> str:
    """A decimal as FEP-0837 writes quantities: a plain string, never an exponent."""
    text = format(value, "f")
    return "0" if value == 0 else text


def _decimal(measure: Any, where: str) -> Decimal:
    value = measure.get("hasNumericalValue") if isinstance(measure, Mapping) else None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PoolError(f"{where} is not a decimal number", reason="malformed",
                        pointer=where) from None
    if not amount.is_finite() or amount < 0:
        raise PoolError(f"{where} must be a non-negative number", reason="malformed",
                        pointer=where)
    return amount


def _instant(text: str, where: str) -> datetime:
    # The schemas' pattern admits impossible dates (month 13); they are malformed.
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PoolError(f"{where} is not a real date and time", reason="malformed",
                        pointer=where) from None


@dataclass(frozen=True)
class PoolTerms:
    """The pool section of a Proposal, parsed."""

    proposal_id: str
    author: str
    kind: GoalKind
    goal: Decimal
    #: The OM2 unit of goal and pledges (``one`` for money and participants).
    unit: str
    #: ISO 4217 code of a money goal, else None.
    currency: str | None
    currency_iri: str | None
    deadline: datetime
    maximum_pledge: Decimal | None
    participant_receives: str | None
    #: Progress as last published (what a remote node knows).
    pledged: Decimal
    pledge_count: int
    state: PoolState
    outcome: str | None

    def is_open(self, now: datetime) -> bool:
        """Whether a pledge or withdrawal made at ``now`` still counts."""
        return self.state is PoolState.OPEN and now < self.deadline

    def goal_met(self, total: Decimal) -> bool:
        return total >= self.goal


def read_pool(proposal: Mapping[str, Any]) -> PoolTerms | None:
    """The pool of ``proposal``, or None when the listing is not a pool.

    Raises :class:`PoolError` (``malformed``) when the section breaks the
    ``pool`` schema or its rules: a money goal names a known currency, a
    participants goal counts whole pledgers.
    """
    section = proposal.get("pool")
    if section is None:
        return None
    validate(section, "pool")
    kind = GoalKind(section["goalKind"])
    goal = _decimal(section["goal"], "/pool/goal")
    unit = str(section["goal"]["hasUnit"])
    currency_iri = section.get("resourceConformsTo")
    currency = currency_code(currency_iri) if isinstance(currency_iri, str) else None
    if kind is GoalKind.MONEY and currency is None:
        raise PoolError("a money goal names its currency in resourceConformsTo",
                        reason="malformed", pointer="/pool/resourceConformsTo")
    if kind is not GoalKind.QUANTITY and unit != COUNT_UNIT:
        raise PoolError(f"a {kind} goal is counted in unit 'one'", reason="malformed",
                        pointer="/pool/goal/hasUnit")
    if goal <= 0 or (kind is GoalKind.PARTICIPANTS and goal != goal.to_integral_value()):
        raise PoolError("the goal must be positive (a whole number of participants)",
                        reason="malformed", pointer="/pool/goal")
    maximum = section.get("maximumPledge")
    return PoolTerms(
        proposal_id=str(id_of(proposal)),
        author=str(id_of(proposal.get("attributedTo"))),
        kind=kind,
        goal=goal,
        unit=unit,
        currency=currency,
        currency_iri=currency_iri if currency else None,
        deadline=_instant(section["endTime"], "/pool/endTime"),
        maximum_pledge=_decimal(maximum, "/pool/maximumPledge") if maximum else None,
        participant_receives=section.get("participantReceives"),
        pledged=_decimal(section.get("pledged") or {"hasNumericalValue": "0"}, "/pool/pledged"),
        pledge_count=int(section.get("pledgeCount", 0)),
        state=PoolState(section.get("poolState", "open")),
        outcome=section.get("outcome"),
    )


def check_amount(terms: PoolTerms, amount: Decimal, unit: str, currency_iri: str | None) -> None:
    """Whether one pledge of ``amount`` (in ``unit``/``currency_iri``) fits ``terms``."""
    if unit != terms.unit:
        raise PoolError(f"pledges to this pool are counted in {terms.unit!r}", reason="amount",
                        pointer="/resourceQuantity/hasUnit")
    if terms.kind is GoalKind.MONEY and (
        currency_iri is None or currency_code(currency_iri) != terms.currency
    ):
        raise PoolError(f"pledges to this pool are in {terms.currency}", reason="amount",
                        pointer="/resourceConformsTo")
    if amount <= 0:
        raise PoolError("a pledge must be more than zero", reason="amount",
                        pointer="/resourceQuantity/hasNumericalValue")
    if terms.kind is GoalKind.PARTICIPANTS and amount != 1:
        raise PoolError("each participant pledges exactly one place", reason="amount",
                        pointer="/resourceQuantity/hasNumericalValue")
    if terms.maximum_pledge is not None and amount > terms.maximum_pledge:
        raise PoolError(
            f"a pledge may be at most {decimal_text(terms.maximum_pledge)}", reason="amount",
            pointer="/resourceQuantity/hasNumericalValue",
        )


def check_pledge(
    terms: PoolTerms, pledge: Mapping[str, Any], *, sender: str, now: datetime
) -> Decimal:
    """Check an (already proof-verified) ``Pledge`` from ``sender`` against the
    pool; return its amount. Raises :class:`PoolError`."""
    validate(pledge, "pool-pledge")
    if id_of(pledge.get("attributedTo")) != sender:
        raise PoolError("a pledge's author must be its sender", reason="binding",
                        pointer="/attributedTo")
    if id_of(pledge.get("inReplyTo")) != terms.proposal_id:
        raise PoolError("the pledge is not bound to this pool", reason="binding",
                        pointer="/inReplyTo")
    if sender == terms.author:
        raise PoolError("the proposer does not pledge to their own pool", reason="binding")
    if not terms.is_open(now):
        raise PoolError("the pool's deadline has passed", reason="closed")
    quantity = pledge["resourceQuantity"]
    amount = _decimal(quantity, "/resourceQuantity")
    check_amount(terms, amount, str(quantity["hasUnit"]), pledge.get("resourceConformsTo"))
    return amount


@dataclass(frozen=True)
class OutcomeEntry:
    """One pledge as an outcome lists it."""

    pledge: str
    pledger: str | None
    amount: Decimal | None


def check_outcome(
    outcome: Mapping[str, Any], *, proposal_id: str, author: str
) -> list[OutcomeEntry]:
    """Check that ``outcome`` is the outcome of this pool and agrees with
    itself; return its entries (commitments, or released pledges).

    A succeeded outcome meets its goal with exactly the commitments it lists;
    a failed one lists no commitment. Raises :class:`PoolError` (``outcome``)
    or :class:`~protocol.errors.SchemaError`.
    """
    validate(outcome, "pool-outcome")
    if id_of(outcome.get("context")) != proposal_id:
        raise PoolError("the outcome is of another pool", reason="outcome", pointer="/context")
    if id_of(outcome.get("attributedTo")) != author:
        raise PoolError("only the pool's author issues its outcome", reason="outcome",
                        pointer="/attributedTo")
    state = PoolState(outcome["poolState"])
    pledged = _decimal(outcome["pledged"], "/pledged")
    goal = _decimal(outcome["goal"], "/goal")
    commitments = outcome.get("commitments", [])
    released = outcome.get("released", [])
    if state is PoolState.SUCCEEDED:
        if released or pledged < goal:
            raise PoolError("a succeeded outcome meets its goal and releases nothing",
                            reason="outcome", pointer="/pledged")
        total = sum((_decimal(c["resourceQuantity"], "/commitments") for c in commitments),
                    Decimal(0))
        if total != pledged or len(commitments) != outcome["pledgeCount"]:
            raise PoolError("the commitments do not add up to what the outcome says",
                            reason="outcome", pointer="/commitments")
        if any(id_of(c.get("receiver")) != author for c in commitments):
            raise PoolError("every commitment is to the pool's author", reason="outcome",
                            pointer="/commitments")
        return [
            OutcomeEntry(pledge=str(c["satisfies"]), pledger=id_of(c.get("provider")),
                         amount=_decimal(c["resourceQuantity"], "/commitments"))
            for c in commitments
        ]
    if commitments:
        raise PoolError("a failed outcome confirms no commitment", reason="outcome",
                        pointer="/commitments")
    return [OutcomeEntry(pledge=str(iri), pledger=None, amount=None) for iri in released]


def verify_outcome(
    outcome: Mapping[str, Any],
    author_document: Mapping[str, Any],
    *,
    proposal_id: str,
) -> list[OutcomeEntry]:
    """:func:`check_outcome`, after verifying the outcome's proof as made by
    the pool author's own key (``author_document`` is their actor document).
    Raises :class:`~protocol.errors.ProofError` or :class:`PoolError`."""
    author = str(author_document.get("id"))
    verify_authored_object(outcome, author_document)
    return check_outcome(outcome, proposal_id=proposal_id, author=author)
