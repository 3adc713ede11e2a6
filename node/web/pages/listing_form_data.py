"""The listing form's flat fields to the API's listing terms and back.

A browser form cannot send nested objects, so ``price_amount`` and
``price_currency`` become ``price: {amount, currency}`` here, with a message
per field when something is off. The result is then checked by the same JSON
Schema and term rules as the API's, so both accept exactly the same listings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from node.errors import ValidationFailed
from node.services.listing_terms import PRECISION_ROUNDING, check_terms
from node.services.listings import DEFAULT_LIFETIME_DAYS
from node.web.pages.pool_form import (
    blank_pool_values,
    expiry_for_pool,
    listing_field_errors,
    read_pool_terms,
)
from node.web.pages.site import gettext as _
from protocol.errors import SchemaError
from protocol.validation import validate
from protocol.vocab import ExchangeMode, Purpose

MAX_IMAGES = 8
MAX_WINDOWS = 50
_DECIMAL = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,10})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DURATION = re.compile(r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$")
#: The error key of inputs that are part of one term (the price's currency...).
_GROUP = {
    "price_amount": "price", "price_currency": "price", "price_per": "price",
    "deposit_amount": "deposit", "deposit_currency": "deposit", "period_minimum": "period",
    "period_maximum": "period", "latitude": "location", "longitude": "location",
    "precision": "location", "location_name": "location", "image_description": "images",
}
_MISSING = re.compile(r"^'([a-z_]+)' is a required property$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
#: Single-valued text inputs of the form and their longest accepted values.
TEXT_INPUTS = {
    "purpose": 20, "mode": 20, "title": 200, "description": 10_000, "categories": 500,
    "quantity": 10, "price_amount": 32, "price_currency": 3, "price_per": 40, "wanted": 500,
    "deposit_amount": 32, "deposit_currency": 3, "period_minimum": 40, "period_maximum": 40,
    "latitude": 40, "longitude": 40, "precision": 20, "location_name": 200, "expires_at": 10,
    "status": 20, "image_description": 1500,
}


@dataclass
class ListingForm:
    #: What the member typed, to fill the form again.
    values: dict[str, Any]
    #: The listing's terms as the API takes them; optional terms left blank are None.
    fields: dict[str, Any] = field(default_factory=dict)
    uploads: list[bytes] = field(default_factory=list)
    remove_images: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _number(text: str) -> str:
    return text.replace(",", ".").replace(" ", "")


def _money(form: ListingForm, prefix: str, default_currency: str = "") -> dict[str, str] | None:
    amount = _number(form.values[f"{prefix}_amount"])
    currency = form.values[f"{prefix}_currency"].upper() or (default_currency if amount else "")
    if not amount and not currency:
        return None
    if not _DECIMAL.fullmatch(amount):
        form.errors[prefix] = _("Write the amount as a number such as 12.50.")
        return None
    if not _CURRENCY.fullmatch(currency):
        form.errors[prefix] = _("Name the currency with its three-letter code, such as EUR.")
        return None
    return {"amount": amount, "currency": currency}


def _duration(form: ListingForm, name: str, error_key: str) -> str | None:
    value = form.values[name].upper()
    if not value:
        return None
    if not _DURATION.fullmatch(value) or value in ("P", "PT"):
        form.errors[error_key] = _("Choose a length of time from the menu.")
        return None
    return value


def _categories(form: ListingForm) -> list[str]:
    words = [w.strip().lstrip("#").lower() for w in re.split(r"[,\s]+", form.values["categories"])]
    found = sorted({w for w in words if w})
    if len(found) > 10 or any(not _CATEGORY.fullmatch(w) for w in found):
        form.errors["categories"] = _(
            "Up to 10 categories of lowercase letters, digits and hyphens, separated by commas."
        )
    return found


def _quantity(form: ListingForm) -> int:
    raw = form.values["quantity"] or "1"
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1_000_000):
        form.errors["quantity"] = _("Write a whole number from 1 to 1000000.")
        return 1
    return int(raw)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _windows(form: ListingForm, starts: list[str], ends: list[str]) -> list[dict[str, str]]:
    windows = []
    rows = [(start, end) for start, end in zip(starts, ends, strict=False) if start or end]
    rows = rows[:MAX_WINDOWS]
    form.values["availability_rows"] = rows
    for start_text, end_text in rows:
        first, last = _day(start_text), _day(end_text)
        if first is None or last is None:
            form.errors["availability"] = _("Give both the first and the last day.")
            continue
        if last < first:
            form.errors["availability"] = _("The last day cannot come before the first.")
            continue
        windows.append({"start": f"{first.isoformat()}T00:00:00Z",
                        "end": f"{(last + timedelta(days=1)).isoformat()}T00:00:00Z"})
    return windows


def _location(form: ListingForm) -> dict[str, Any] | None:
    lat_text, lon_text = _number(form.values["latitude"]), _number(form.values["longitude"])
    if not lat_text and not lon_text:
        return None
    try:
        latitude, longitude = float(lat_text), float(lon_text)
    except ValueError:
        form.errors["location"] = _("Give both latitude and longitude as numbers, or neither.")
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        form.errors["location"] = _(
            "Latitude goes from -90 to 90 and longitude from -180 to 180."
        )
        return None
    precision = form.values["precision"]
    if precision not in PRECISION_ROUNDING:
        form.errors["location"] = _("Choose how precisely to show the place.")
        return None
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude,
                                "precision": precision}
    if form.values["location_name"]:
        location["name"] = form.values["location_name"]
    return location


def _expiry(form: ListingForm, current: str) -> str | None:
    text = form.values["expires_at"]
    # Left as it was (perhaps already past, for an expired listing): no change.
    if not text or text == current[:10]:
        return None
    day = _day(text)
    if day is None or day < date.today():
        form.errors["expires_at"] = _("Choose a day from today on.")
        return None
    return f"{day.isoformat()}T23:59:59Z"


def _uploads(form: ListingForm, posted: MultiDictProxy[Any]) -> None:
    for upload in posted.getall("images", []):
        if isinstance(upload, FileField) and upload.filename:
            data = upload.file.read()
            if data:
                form.uploads.append(data)


def _choice(form: ListingForm, name: str, allowed: set[str], message: str) -> str:
    value = form.values[name]
    if value not in allowed:
        form.errors[name] = message
    return value


def parse_listing_form(
    posted: MultiDictProxy[Any], kept_images: list[str], current_expiry: str = "", *,
    with_pool: bool = False,
) -> ListingForm:
    """Read a posted listing form; ``kept_images`` and ``current_expiry`` are the
    edited listing's. ``with_pool``: a new listing may be a pool (its terms never change)."""
    values: dict[str, Any] = {}
    form = ListingForm(values=values)
    for name, limit in TEXT_INPUTS.items():
        raw = posted.get(name, "")
        values[name] = raw.strip() if isinstance(raw, str) else ""
        if len(values[name]) > limit:
            values[name] = values[name][:limit]
            form.errors[_GROUP.get(name, name)] = _(
                "Shorten this to %(n)s characters.", n=limit
            )
    fields: dict[str, Any] = {
        "purpose": _choice(form, "purpose", {p.value for p in Purpose},
                           _("Say whether you offer or ask for something.")),
        "mode": _choice(form, "mode", {m.value for m in ExchangeMode},
                        _("Choose the kind of exchange.")),
        "title": values["title"],
        "description": values["description"],
        "categories": _categories(form),
        "quantity": _quantity(form),
        "wanted": values["wanted"] or None,
        "availability": _windows(form, _strings(posted, "available_from"),
                                 _strings(posted, "available_until")),
        "location": _location(form),
    }
    if not values["title"]:
        form.errors["title"] = _("Give the listing a title.")
    price = _money(form, "price")
    if price and (per := _duration(form, "price_per", "price")):
        price["per"] = per
    fields["price"] = price
    fields["deposit"] = _money(form, "deposit", price["currency"] if price else "")
    period = {key: value for key in ("minimum", "maximum")
              if (value := _duration(form, f"period_{key}", "period"))}
    fields["period"] = period or None
    expires_at = _expiry(form, current_expiry)
    if expires_at:
        fields["expires_at"] = expires_at
    if with_pool and (pool := read_pool_terms(posted, values, form.errors)):
        fields["pool"] = pool
        if not expires_at and "deadline" in pool:
            fields["expires_at"] = expiry_for_pool(pool, DEFAULT_LIFETIME_DAYS)
    form.remove_images = [i for i in _strings(posted, "remove_image") if i in kept_images]
    _uploads(form, posted)
    fields["images"] = [i for i in kept_images if i not in form.remove_images]
    if len(fields["images"]) + len(form.uploads) > MAX_IMAGES:
        form.errors["images"] = _("A listing holds at most %(n)s images.", n=MAX_IMAGES)
    form.fields = fields
    if not form.errors:
        _check(form)
    return form


def _strings(posted: MultiDictProxy[Any], name: str) -> list[str]:
    return [value.strip()[:100] for value in posted.getall(name, []) if isinstance(value, str)]


def _check(form: ListingForm) -> None:
    """The API's own rules: its JSON Schema, then the rules between terms."""
    body = {key: value for key, value in form.fields.items() if value is not None}
    # Images are checked once uploaded; a placeholder id keeps their count honest.
    body["images"] = [*body["images"], *(f"{n:026d}" for n in range(len(form.uploads)))]
    try:
        # The term rules first: their messages are written for people.
        check_terms(body)
        validate(body, "api-listing-create-request")
    except SchemaError as exc:
        form.errors.update(listing_field_errors(ValidationFailed(
            exc.detail, errors=[{"pointer": _pointer(p, r), "reason": r} for p, r in exc.errors]
        )))
    except ValidationFailed as exc:
        form.errors.update(listing_field_errors(exc))


def _pointer(pointer: str, reason: str) -> str:
    """A missing property is reported at its parent; point at the property."""
    missing = _MISSING.match(reason)
    return f"{pointer}/{missing.group(1)}" if missing else pointer


def form_values(fields: dict[str, Any], status: str = "available") -> dict[str, Any]:
    """A listing's terms as the form's inputs, for editing it."""
    price = fields.get("price") or {}
    deposit = fields.get("deposit") or {}
    period = fields.get("period") or {}
    location = fields.get("location") or {}
    return {
        "purpose": fields.get("purpose", "offer"),
        "mode": fields.get("mode", "sell"),
        "title": fields.get("title", ""),
        "description": fields.get("description", ""),
        "categories": ", ".join(fields.get("categories", [])),
        "quantity": str(fields.get("quantity", 1)),
        "price_amount": price.get("amount", ""),
        "price_currency": price.get("currency", ""),
        "price_per": price.get("per", ""),
        "wanted": fields.get("wanted") or "",
        "deposit_amount": deposit.get("amount", ""),
        "deposit_currency": deposit.get("currency", ""),
        "period_minimum": period.get("minimum", ""),
        "period_maximum": period.get("maximum", ""),
        "latitude": str(location.get("latitude", "")),
        "longitude": str(location.get("longitude", "")),
        "precision": location.get("precision", "neighbourhood"),
        "location_name": location.get("name", ""),
        "expires_at": (fields.get("expires_at") or "")[:10],
        "status": status,
        "image_description": "",
        "availability_rows": [
            (w["start"][:10], _last_day(w["end"])) for w in fields.get("availability", [])
        ],
    }


def _last_day(end: str) -> str:
    """Windows end at midnight after their last day; the form names that last day."""
    day = _day(end[:10])
    if day is None:
        return end[:10]
    return (day - timedelta(days=1)).isoformat() if end[10:].startswith("T00:00:00") else end[:10]


def blank_values() -> dict[str, Any]:
    return {**form_values({}), **blank_pool_values()}
