"""From a listing's terms as the API takes them to a signed FEP-0837 Proposal.

The API speaks a flat, friendly shape (``price: {amount, currency, per}``);
this module is the one translation between it and the wire vocabulary.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from node.errors import ValidationFailed
from node.services.pool_terms import check_pool_terms, pool_section
from protocol import builders
from protocol.currency import COUNT_UNIT, currency_iri
from protocol.namespaces import AS_PUBLIC
from protocol.vocab import MODES_REQUIRING_RECIPROCAL, MODES_WITHOUT_RECIPROCAL, ExchangeMode

#: Decimal places kept for each precision, and the matching uncertainty in metres.
PRECISION_ROUNDING: dict[str, tuple[int, float]] = {
    "exact": (5, 10.0),
    "street": (3, 150.0),
    "neighbourhood": (2, 1_500.0),
    "city": (1, 15_000.0),
    "region": (0, 150_000.0),
}


def _invalid(pointer: str, reason: str) -> ValidationFailed:
    return ValidationFailed(reason, errors=[{"pointer": pointer, "reason": reason}])


def _decimal(value: str, pointer: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _invalid(pointer, "must be a decimal number such as 12.50") from None
    if not amount.is_finite() or amount < 0:
        raise _invalid(pointer, "must be a non-negative decimal number")
    return amount


def check_terms(fields: dict[str, Any]) -> None:
    """Rules a JSON Schema cannot say: which modes need a price, a swap item..."""
    mode = ExchangeMode(fields["mode"])
    has_price = fields.get("price") is not None
    if mode is ExchangeMode.SWAP:
        if not fields.get("wanted"):
            raise _invalid("/wanted", "a swap must say what is wanted in return")
        if has_price:
            raise _invalid("/price", "a swap has no price; describe the wanted item instead")
    elif mode in MODES_REQUIRING_RECIPROCAL and not has_price:
        raise _invalid("/price", f"a {mode} listing needs a price")
    if mode in MODES_WITHOUT_RECIPROCAL and has_price:
        raise _invalid("/price", f"a {mode} listing has no price")
    if mode is not ExchangeMode.SWAP and fields.get("wanted"):
        raise _invalid("/wanted", "only swaps name a wanted item")
    if fields.get("price"):
        _decimal(fields["price"]["amount"], "/price/amount")
        if mode is ExchangeMode.RENT and not fields["price"].get("per"):
            raise _invalid("/price/per", "a rent needs the period it pays for, e.g. P1D")
    if fields.get("deposit"):
        _decimal(fields["deposit"]["amount"], "/deposit/amount")
    for index, window in enumerate(fields.get("availability") or []):
        if window["end"] <= window["start"]:
            raise _invalid(f"/availability/{index}/end", "must be after start")
    if fields.get("pool") is not None:
        check_pool_terms(fields)


def rounded_location(location: dict[str, Any]) -> dict[str, Any]:
    """Round coordinates to the precision the member chose before anything is stored."""
    digits, _ = PRECISION_ROUNDING[location["precision"]]
    return {
        **location,
        "latitude": round(float(location["latitude"]), digits),
        "longitude": round(float(location["longitude"]), digits),
    }


def text_to_html(text: str) -> str:
    """Members write plain text; it is escaped and split into paragraphs, so no
    markup from a member ever reaches another member's screen."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


@dataclass(frozen=True)
class ProposalContext:
    iri: str
    author_iri: str
    followers_iri: str
    tag_base: str
    published: str
    updated: str | None
    status: str
    images: list[dict[str, Any]]


def _measure(amount: str) -> dict[str, Any]:
    return builders.measure(unit=COUNT_UNIT, value=amount)


def build_proposal(fields: dict[str, Any], pc: ProposalContext) -> dict[str, Any]:
    """The unsigned ``Proposal`` for ``fields``."""
    mode = fields["mode"]
    quantity = str(fields.get("quantity", 1))
    publishes = builders.primary_intent(
        proposal_id=pc.iri,
        author=pc.author_iri,
        purpose=fields["purpose"],
        exchange_mode=mode,
        resource_quantity=builders.measure(unit=COUNT_UNIT, value=quantity),
        available_quantity=builders.measure(unit=COUNT_UNIT, value=quantity),
    )
    reciprocal = None
    price = fields.get("price")
    if price:
        reciprocal = builders.reciprocal_intent(
            proposal_id=pc.iri,
            author=pc.author_iri,
            purpose=fields["purpose"],
            resource_quantity=_measure(price["amount"]),
            resource_conforms_to=currency_iri(price["currency"]),
            price_per=price.get("per"),
        )
    elif fields.get("wanted"):
        reciprocal = builders.reciprocal_intent(
            proposal_id=pc.iri,
            author=pc.author_iri,
            purpose=fields["purpose"],
            resource_quantity=_measure("1"),
        )
        reciprocal["name"] = fields["wanted"]
    location = fields.get("location")
    place = None
    if location:
        _, radius = PRECISION_ROUNDING[location["precision"]]
        place = builders.place(
            latitude=location["latitude"],
            longitude=location["longitude"],
            precision=location["precision"],
            name=location.get("name"),
            radius=radius,
        )
    deposit = fields.get("deposit")
    period = fields.get("period") or {}
    proposal = builders.proposal(
        id=pc.iri,
        author=pc.author_iri,
        purpose=fields["purpose"],
        exchange_mode=mode,
        name=fields["title"],
        content=text_to_html(fields.get("description", "")),
        publishes=publishes,
        reciprocal=reciprocal,
        unit_based=False,
        to=[AS_PUBLIC],
        cc=[pc.followers_iri],
        url=pc.iri,
        location=place,
        attachment=pc.images,
        tag=[
            builders.hashtag(name=category, href=f"{pc.tag_base}/{category}")
            for category in fields.get("categories", [])
        ],
        published=pc.published,
        updated=pc.updated,
        listing_status=pc.status,
        price_per=price.get("per") if price else None,
        minimum_period=period.get("minimum"),
        maximum_period=period.get("maximum"),
        availability=[
            builders.availability_window(start=w["start"], end=w["end"])
            for w in fields.get("availability", [])
        ],
        # A deposit is a Measure whose unit is the currency itself.
        deposit=(
            builders.measure(unit=currency_iri(deposit["currency"]), value=deposit["amount"])
            if deposit
            else None
        ),
        expires=fields.get("expires_at"),
    )
    if fields.get("booked"):
        proposal["booked"] = [
            builders.availability_window(start=w["start"], end=w["end"]) for w in fields["booked"]
        ]
    if fields.get("pool"):
        proposal["pool"] = pool_section(fields["pool"])
    # The public questions the author shows (SPEC §7.1), served at this IRI.
    proposal["replies"] = f"{pc.iri}/replies"
    return proposal
