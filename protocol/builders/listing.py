"""Listings: FEP-0837 ``Proposal`` objects with their intents, places, images and tags.

A listing stays readable by servers without marketplace support: it keeps
``name``, ``content``, ``url`` and ``attachment`` so Mastodon can show it as it
would a ``Note`` (FEP-0837, "Publishing a proposal").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from protocol.builders._common import JsonDict, Timestamp, drop_unset, ids, timestamp, with_context
from protocol.vocab import (
    MODE_PRIMARY_ACTION,
    MODES_REQUIRING_RECIPROCAL,
    MODES_WITHOUT_RECIPROCAL,
    PRIMARY_FRAGMENT,
    RECIPROCAL_FRAGMENT,
    ExchangeMode,
    ListingStatus,
    LocationPrecision,
    Purpose,
    VfAction,
)


def measure(*, unit: str, value: Decimal | int | str) -> JsonDict:
    """An OM2 measure. The number travels as a decimal string, as in FEP-0837,
    so that prices never pass through binary floating point."""
    if isinstance(value, float):
        raise TypeError("use Decimal, int or str for quantities, never float")
    return {"hasUnit": unit, "hasNumericalValue": str(value)}


def intent(
    *,
    id: str,
    action: VfAction | str,
    resource_quantity: JsonDict,
    resource_conforms_to: str | None = None,
    available_quantity: JsonDict | None = None,
    provider: str | None = None,
    receiver: str | None = None,
    price_per: str | None = None,
) -> JsonDict:
    """A ValueFlows ``Intent``: one side of what a proposal offers or asks for."""
    return drop_unset({
        "id": id,
        "type": "Intent",
        "action": str(action),
        "resourceConformsTo": resource_conforms_to,
        "resourceQuantity": resource_quantity,
        "availableQuantity": available_quantity,
        "provider": provider,
        "receiver": receiver,
        "pricePer": price_per,
    })


def primary_intent(
    *,
    proposal_id: str,
    author: str,
    purpose: Purpose | str,
    exchange_mode: ExchangeMode | str,
    resource_quantity: JsonDict,
    resource_conforms_to: str | None = None,
    available_quantity: JsonDict | None = None,
) -> JsonDict:
    """The primary intent of a listing: action from the mode, author as provider
    of an offer or receiver of a request, id ``<proposal>#primary``."""
    is_offer = Purpose(purpose) is Purpose.OFFER
    return intent(
        id=f"{proposal_id}#{PRIMARY_FRAGMENT}",
        action=MODE_PRIMARY_ACTION[ExchangeMode(exchange_mode)],
        resource_quantity=resource_quantity,
        resource_conforms_to=resource_conforms_to,
        available_quantity=available_quantity,
        provider=author if is_offer else None,
        receiver=None if is_offer else author,
    )


def reciprocal_intent(
    *,
    proposal_id: str,
    author: str,
    purpose: Purpose | str,
    resource_quantity: JsonDict,
    resource_conforms_to: str | None = None,
    action: VfAction | str = VfAction.TRANSFER,
    price_per: str | None = None,
) -> JsonDict:
    """What the author wants (offer) or gives (request) in return.

    A price is a ``transfer`` whose ``resourceConformsTo`` names the currency
    (ValueFlows treats currencies as resource specifications, FEP-0837 does the
    same) and whose quantity is the amount; ``price_per`` (ISO 8601 duration)
    makes it a rent. A swap uses the wanted item's specification instead.
    """
    is_offer = Purpose(purpose) is Purpose.OFFER
    return intent(
        id=f"{proposal_id}#{RECIPROCAL_FRAGMENT}",
        action=action,
        resource_quantity=resource_quantity,
        resource_conforms_to=resource_conforms_to,
        provider=None if is_offer else author,
        receiver=author if is_offer else None,
        price_per=price_per,
    )


def place(
    *,
    latitude: float,
    longitude: float,
    precision: LocationPrecision | str,
    name: str | None = None,
    radius: float | None = None,
) -> JsonDict:
    """An AS ``Place``; ``radius`` is in metres and says how far off the
    (already rounded) coordinates may be."""
    return drop_unset({
        "type": "Place",
        "name": name,
        "latitude": latitude,
        "longitude": longitude,
        "radius": radius,
        "units": "m" if radius is not None else None,
        "locationPrecision": LocationPrecision(precision).value,
    })


def image(
    *, url: str, media_type: str, alt: str, width: int | None = None, height: int | None = None
) -> JsonDict:
    """An AS ``Image`` attachment; ``name`` carries the alt text, as Mastodon reads it."""
    return drop_unset({
        "type": "Image", "url": url, "mediaType": media_type, "name": alt,
        "width": width, "height": height,
    })


def hashtag(*, name: str, href: str) -> JsonDict:
    """A ``Hashtag`` tag that other servers index; ``name`` gets its ``#``."""
    return {"type": "Hashtag", "name": name if name.startswith("#") else f"#{name}", "href": href}


def category(*, id: str, name: str) -> JsonDict:
    """A ``kula:Category`` tag naming a category of the shared taxonomy."""
    return {"type": "Category", "id": id, "name": name}


def availability_window(*, start: Timestamp, end: Timestamp) -> JsonDict:
    """A ``kula:AvailabilityWindow`` between two instants."""
    return {"type": "AvailabilityWindow", "startTime": timestamp(start), "endTime": timestamp(end)}


def _check_mode(mode: ExchangeMode, primary: Mapping[str, Any], reciprocal: object) -> None:
    expected = MODE_PRIMARY_ACTION[mode].value
    if primary.get("action") != expected:
        raise ValueError(f"a {mode} listing's primary intent must have action {expected!r}")
    if mode in MODES_REQUIRING_RECIPROCAL and reciprocal is None:
        raise ValueError(f"a {mode} listing needs a reciprocal intent")
    if mode in MODES_WITHOUT_RECIPROCAL and reciprocal is not None:
        raise ValueError(f"a {mode} listing has no reciprocal intent")


def proposal(
    *,
    id: str,
    author: str,
    purpose: Purpose | str,
    exchange_mode: ExchangeMode | str,
    name: str,
    content: str,
    publishes: JsonDict,
    to: str | Iterable[str],
    reciprocal: JsonDict | None = None,
    unit_based: bool = False,
    cc: str | Iterable[str] = (),
    url: str | None = None,
    location: JsonDict | None = None,
    attachment: Iterable[JsonDict] = (),
    tag: Iterable[JsonDict] = (),
    published: Timestamp = None,
    updated: Timestamp | None = None,
    listing_status: ListingStatus | str = ListingStatus.AVAILABLE,
    price_per: str | None = None,
    minimum_period: str | None = None,
    maximum_period: str | None = None,
    availability: Iterable[JsonDict] = (),
    deposit: JsonDict | None = None,
    expires: Timestamp | None = None,
    context: list[str] | None = None,
) -> JsonDict:
    """A listing as a FEP-0837 ``Proposal`` with Kula's terms.

    ``content`` is sanitised HTML. Raises ValueError when the intents do not fit
    the exchange mode (e.g. a sale without a price, a gift with one).
    """
    mode = ExchangeMode(exchange_mode)
    _check_mode(mode, publishes, reciprocal)
    document = drop_unset({
        "id": id,
        "type": "Proposal",
        "purpose": Purpose(purpose).value,
        "exchangeMode": mode.value,
        "attributedTo": author,
        "name": name,
        "content": content,
        "mediaType": "text/html",
        "url": url,
        "published": timestamp(published),
        "updated": timestamp(updated) if updated is not None else None,
        "publishes": publishes,
        "reciprocal": reciprocal,
        "unitBased": unit_based,
        "listingStatus": ListingStatus(listing_status).value,
        "pricePer": price_per,
        "minimumPeriod": minimum_period,
        "maximumPeriod": maximum_period,
        "availability": list(availability),
        "deposit": deposit,
        "expires": timestamp(expires) if expires is not None else None,
        "location": location,
        "attachment": list(attachment),
        "tag": list(tag),
        "to": ids(to),
        "cc": ids(cc),
    })
    return with_context(document, context)
