"""Listings from other nodes: a verified FEP-0837 Proposal becomes a row in
the same table as local listings, so search treats both alike."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import nh3

from node.errors import Forbidden
from node.federation.policy import host_of
from node.ids import new_id
from node.storage.base import Session
from node.storage.records import Listing
from node.timeutil import now_text
from protocol.currency import currency_code
from protocol.normalize import as_list, first, id_of
from protocol.vocab import ExchangeMode, ListingStatus, normalize_action

_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_STATUSES = {status.value for status in ListingStatus}


def html_to_text(fragment: str) -> str:
    """Remote HTML as plain text: every tag removed by a real sanitiser, paragraphs kept."""
    spaced = re.sub(r"(?i)</p\s*>|<br\s*/?>", "\n", fragment)
    return html.unescape(nh3.clean(spaced, tags=set())).strip()


def _infer_mode(proposal: dict[str, Any]) -> str:
    """Kula nodes say the mode; other FEP-0837 servers only say the action."""
    declared = proposal.get("exchangeMode")
    if declared in {mode.value for mode in ExchangeMode}:
        return declared
    publishes = proposal.get("publishes") if isinstance(proposal.get("publishes"), dict) else {}
    action = normalize_action(str(publishes.get("action", "")))
    has_reciprocal = isinstance(proposal.get("reciprocal"), dict)
    if action == "transferCustody":
        return "rent" if has_reciprocal else "lend"
    if action == "use":
        return "share"
    if action == "deliverService":
        return "service"
    return "sell" if has_reciprocal else "give"


def _windows(value: Any) -> list[dict[str, str]]:
    return [
        {"start": window["startTime"], "end": window["endTime"]}
        for window in as_list(value)
        if isinstance(window, dict)
        and isinstance(window.get("startTime"), str)
        and isinstance(window.get("endTime"), str)
    ]


def _amount(measure: Any) -> str | None:
    if isinstance(measure, dict) and isinstance(measure.get("hasNumericalValue"), str | int):
        return str(measure["hasNumericalValue"])
    return None


def fields_from_proposal(proposal: dict[str, Any]) -> dict[str, Any]:
    """The API's view of a remote listing's terms."""
    fields: dict[str, Any] = {
        "purpose": proposal.get("purpose", "offer"),
        "mode": _infer_mode(proposal),
        "title": str(proposal.get("name") or "")[:200],
        "description": html_to_text(str(proposal.get("content") or ""))[:10000],
        "categories": sorted({
            name.lstrip("#").lower()
            for tag in as_list(proposal.get("tag"))
            if isinstance(tag, dict) and isinstance(name := tag.get("name"), str)
            and _CATEGORY.fullmatch(name.lstrip("#").lower())
        })[:10],
        "images": [],
        "availability": _windows(proposal.get("availability")),
        "booked": _windows(proposal.get("booked")),
    }
    publishes = proposal.get("publishes") if isinstance(proposal.get("publishes"), dict) else {}
    quantity = _amount(publishes.get("availableQuantity")) or _amount(
        publishes.get("resourceQuantity")
    )
    try:
        fields["quantity"] = max(1, int(float(quantity))) if quantity else 1
    except ValueError:
        fields["quantity"] = 1
    reciprocal = proposal.get("reciprocal")
    if isinstance(reciprocal, dict):
        currency = currency_code(str(reciprocal.get("resourceConformsTo", "")))
        amount = _amount(reciprocal.get("resourceQuantity"))
        if currency and amount:
            price = {"amount": amount, "currency": currency}
            if per := reciprocal.get("pricePer") or proposal.get("pricePer"):
                price["per"] = per
            fields["price"] = price
        elif isinstance(reciprocal.get("name"), str):
            fields["wanted"] = reciprocal["name"][:500]
    deposit = proposal.get("deposit")
    if isinstance(deposit, dict):
        currency = currency_code(str(deposit.get("hasUnit", "")))
        if currency and (amount := _amount(deposit)):
            fields["deposit"] = {"amount": amount, "currency": currency}
    period = {
        key: proposal[term]
        for key, term in (("minimum", "minimumPeriod"), ("maximum", "maximumPeriod"))
        if isinstance(proposal.get(term), str)
    }
    if period:
        fields["period"] = period
    place = first(proposal.get("location"))
    if isinstance(place, dict) and isinstance(place.get("latitude"), int | float) and isinstance(
        place.get("longitude"), int | float
    ):
        fields["location"] = {
            "latitude": float(place["latitude"]),
            "longitude": float(place["longitude"]),
            "precision": place.get("locationPrecision", "city"),
        }
        if isinstance(place.get("name"), str):
            fields["location"]["name"] = place["name"][:200]
    if isinstance(proposal.get("expires"), str):
        fields["expires_at"] = proposal["expires"]
    return fields


def _status(proposal: dict[str, Any]) -> str:
    status = proposal.get("listingStatus")
    return status if status in _STATUSES else "available"


async def store_remote_listing(session: Session, proposal: dict[str, Any]) -> Listing:
    """Insert or replace a verified remote Proposal; an older copy never wins."""
    iri = proposal["id"]
    fields = fields_from_proposal(proposal)
    price = fields.get("price") or {}
    location = fields.get("location") or {}
    published = proposal.get("published") or now_text()
    updated = proposal.get("updated") or published
    existing = await session.get_listing_by_iri(iri)
    if existing is not None and existing.member_id is not None:
        raise Forbidden("a remote document cannot replace a listing of this node")
    if existing is not None and existing.author_iri != id_of(proposal.get("attributedTo")):
        # Even an actor of the same origin may not take over another's listing.
        raise Forbidden("only a listing's author may replace it")
    if existing is not None and existing.updated_at > updated and existing.deleted_at is None:
        return existing
    listing = Listing(
        seq=existing.seq if existing else 0,
        id=existing.id if existing else new_id(),
        iri=iri,
        author_iri=id_of(proposal.get("attributedTo")) or "",
        member_id=None,
        origin=host_of(iri),
        purpose=fields["purpose"],
        mode=fields["mode"],
        status=_status(proposal),
        title=fields["title"],
        content=fields["description"],
        price_amount=float(price["amount"]) if price else None,
        price_currency=price.get("currency"),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
        expires_at=fields.get("expires_at"),
        published_at=published,
        updated_at=updated,
        fields=fields,
        document=proposal,
        deleted_at=None,
        categories=tuple(fields["categories"]),
        image_ids=(),
    )
    if existing is None:
        listing = replace(listing, seq=await session.insert_listing(listing))
    else:
        await session.update_listing(listing)
    await session.index_listing(
        listing.seq, listing.title, listing.content, " ".join(listing.categories)
    )
    return listing


async def delete_remote_listing(session: Session, iri: str) -> bool:
    existing = await session.get_listing_by_iri(iri)
    if existing is None or existing.member_id is not None or existing.deleted_at is not None:
        return False
    now = now_text()
    await session.update_listing(replace(existing, deleted_at=now, updated_at=now))
    await session.unindex_listing(existing.seq)
    return True
