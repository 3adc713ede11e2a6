"""The terms of an exchange: which Agreement a member offers for a listing,
what it costs, and which role each party plays."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from node.errors import NodeError, NotFound, ValidationFailed
from node.services.pool_terms import PoolTakesNoOffers, is_pool
from node.storage.records import Listing
from node.timeutil import parse_text
from protocol import builders
from protocol.currency import COUNT_UNIT, currency_iri
from protocol.vocab import MODE_ROLES, RETURNABLE_MODES, ExchangeMode, ListingStatus

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
MAX_PERIODS = 10_000
#: A reserved listing still takes offers: for what is left (a further unit,
#: other dates), or in case the reservation falls through.
OPEN_STATUSES = frozenset({ListingStatus.AVAILABLE.value, ListingStatus.RESERVED.value})


@dataclass(frozen=True)
class Terms:
    """What a member asks for when offering or countering."""

    quantity: int = 1
    starts_at: str | None = None
    ends_at: str | None = None
    #: A counter-offer may change the price; None keeps the listing's.
    price_amount: str | None = None


def _invalid(pointer: str, reason: str) -> ValidationFailed:
    return ValidationFailed(reason, errors=[{"pointer": pointer, "reason": reason}])


def duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours and minutes (what ``per`` uses)."""
    match = _DURATION.fullmatch(text)
    if not match or not any(match.groups()):
        raise _invalid("/price/per", f"unsupported duration {text!r}")
    weeks, days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def is_returnable(mode: str) -> bool:
    return ExchangeMode(mode) in RETURNABLE_MODES


def check_takes_offers(listing: Listing) -> None:
    """Refuse a new offer on a deleted, withdrawn, expired or completed listing:
    the one rule behind a member's offer here and an Offer from another node."""
    if listing.deleted_at is not None:
        raise NotFound("the listing was deleted")
    if listing.status not in OPEN_STATUSES:
        raise ValidationFailed(f"the listing is {listing.status}")


def takes_offers(listing: Listing) -> bool:
    """Whether :func:`check_takes_offers` lets a new offer on ``listing`` through."""
    try:
        check_takes_offers(listing)
    except NodeError:
        return False
    return True


def check_terms(listing: Listing, terms: Terms) -> None:
    """Refuse an exchange ``listing`` cannot take on ``terms``: the one check
    behind a member's offer or counter-offer and an Offer from another node."""
    if is_pool(listing):
        # A pool is joined by pledges its author's node counts towards one signed
        # outcome; an exchange would promise the listing to one member outside it.
        raise PoolTakesNoOffers("the listing is a pool: it takes pledges, not exchange offers")
    available = int(listing.fields.get("quantity", 1))
    if not 1 <= terms.quantity <= max(1, available):
        raise _invalid("/quantity", f"between 1 and {available} can be asked for")
    dated = terms.starts_at is not None or terms.ends_at is not None
    if is_returnable(listing.mode) and not (terms.starts_at and terms.ends_at):
        raise _invalid("/start", f"a {listing.mode} needs a start and an end")
    if dated:
        if not (terms.starts_at and terms.ends_at):
            raise _invalid("/end", "start and end go together")
        if parse_text(terms.ends_at) <= parse_text(terms.starts_at):
            raise _invalid("/end", "must be after start")
        period = listing.fields.get("period") or {}
        length = parse_text(terms.ends_at) - parse_text(terms.starts_at)
        if period.get("minimum") and length < duration(period["minimum"]):
            raise _invalid("/end", f"the shortest {listing.mode} is {period['minimum']}")
        if period.get("maximum") and length > duration(period["maximum"]):
            raise _invalid("/end", f"the longest {listing.mode} is {period['maximum']}")


def total_price(listing: Listing, terms: Terms) -> Decimal | None:
    """What the receiver pays: the price times the quantity, times the number of
    periods (rounded up) for a price per period."""
    price = listing.fields.get("price")
    if not price:
        return None
    unit = Decimal(terms.price_amount if terms.price_amount is not None else price["amount"])
    total = unit * terms.quantity
    if price.get("per") and terms.starts_at and terms.ends_at:
        length = parse_text(terms.ends_at) - parse_text(terms.starts_at)
        periods = math.ceil(length / duration(price["per"]))
        if periods > MAX_PERIODS:
            raise _invalid("/end", "the period is too long for this price")
        total *= periods
    return total


def roles(listing: Listing) -> tuple[str, str]:
    """(proposer's role, responder's role) for attestations."""
    provider, receiver = MODE_ROLES[ExchangeMode(listing.mode)]
    if listing.purpose == "offer":
        return provider, receiver
    return receiver, provider


def build_agreement(
    listing: Listing, terms: Terms, *, agreement_iri: str, responder_iri: str
) -> dict[str, Any]:
    """The unsigned Agreement a responder offers for ``listing`` (FEP-0837)."""
    proposal = listing.document
    publishes = proposal.get("publishes") or {}
    offer_listing = listing.purpose == "offer"
    if offer_listing:
        provider, receiver = listing.author_iri, responder_iri
    else:
        provider, receiver = responder_iri, listing.author_iri
    primary = builders.commitment(
        id=f"{agreement_iri}#primary",
        satisfies=f"{listing.iri}#primary",
        action=publishes.get("action", "transfer"),
        resource_conforms_to=publishes.get("resourceConformsTo"),
        resource_quantity=builders.measure(unit=COUNT_UNIT, value=terms.quantity),
        provider=provider,
        receiver=receiver,
        has_beginning=terms.starts_at,
        has_end=terms.ends_at,
    )
    reciprocal = None
    price = listing.fields.get("price")
    total = total_price(listing, terms)
    if price and total is not None:
        reciprocal = builders.commitment(
            id=f"{agreement_iri}#reciprocal",
            satisfies=f"{listing.iri}#reciprocal",
            action="transfer",
            resource_conforms_to=currency_iri(price["currency"]),
            resource_quantity=builders.measure(unit=COUNT_UNIT, value=str(total)),
            provider=receiver,
            receiver=provider,
        )
    elif listing.fields.get("wanted"):
        reciprocal = builders.commitment(
            id=f"{agreement_iri}#reciprocal",
            satisfies=f"{listing.iri}#reciprocal",
            action="transfer",
            resource_quantity=builders.measure(unit=COUNT_UNIT, value=1),
            provider=receiver,
            receiver=provider,
        )
    deposit = listing.fields.get("deposit")
    agreement = builders.agreement(
        id=agreement_iri,
        stipulates=primary,
        stipulates_reciprocal=reciprocal,
        exchange_mode=listing.mode,
        deposit=(
            builders.measure(unit=currency_iri(deposit["currency"]), value=deposit["amount"])
            if deposit else None
        ),
    )
    return {"@context": proposal.get("@context"), **agreement}
