"""The listing form's "Pool together" inputs, turned into the API's ``pool``
terms (``{goal: {kind, amount, currency|unit}, deadline, receives,
maximum_pledge}``), and the API's messages about them put back beside the
inputs that caused them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from multidict import MultiDictProxy

from node.errors import NodeError, ValidationFailed
from node.web.pages.forms import field_errors
from node.web.pages.site import gettext as _

#: The pool's inputs and their longest accepted values.
POOL_INPUTS = {
    "pool_kind": 20, "pool_amount": 32, "pool_currency": 3, "pool_unit": 64,
    "pool_deadline": 25, "pool_receives": 2000, "pool_maximum": 32,
}
#: Where the API's JSON pointers about a pool land in the form.
POOL_POINTERS = {
    "/pool/goal/kind": "pool_kind", "/pool/goal/amount": "pool_amount",
    "/pool/goal/currency": "pool_currency", "/pool/goal/unit": "pool_unit",
    "/pool/deadline": "pool_deadline", "/pool/receives": "pool_receives",
    "/pool/maximum_pledge": "pool_maximum",
}
_DECIMAL = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,10})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_UNIT = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
_KINDS = ("money", "participants", "quantity")


def pool_kind_options() -> list[tuple[str, str]]:
    return [
        ("", _("No: a listing on its own")),
        ("money", _("Money (crowdfunding)")),
        ("participants", _("Participants (group buy)")),
        ("quantity", _("A quantity (shared purchase)")),
    ]


def blank_pool_values() -> dict[str, str]:
    return {name: "" for name in POOL_INPUTS}


def _deadline(text: str) -> datetime | None:
    """A ``datetime-local`` value (or a bare date, meaning its end), in UTC."""
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC) + timedelta(
                hours=23, minutes=59, seconds=59)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_pool_terms(
    posted: MultiDictProxy[Any], values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any] | None:
    """Fill ``values`` from the form and return the ``pool`` terms, or None
    when the member did not make the listing a pool. Problems go to ``errors``."""
    for name, limit in POOL_INPUTS.items():
        raw = posted.get(name, "")
        values[name] = raw.strip() if isinstance(raw, str) else ""
        if len(values[name]) > limit:
            values[name] = values[name][:limit]
            errors[name] = _("Shorten this to %(n)s characters.", n=limit)
    kind = values["pool_kind"]
    if not kind:
        return None
    if kind not in _KINDS:
        errors["pool_kind"] = _("Choose what the pool counts from the menu.")
        return None
    amount = values["pool_amount"].replace(",", ".").replace(" ", "")
    goal: dict[str, str] = {"kind": kind, "amount": amount}
    if not _DECIMAL.fullmatch(amount):
        errors["pool_amount"] = _("Write the goal as a number such as 600 or 12.5.")
    if kind == "money":
        goal["currency"] = values["pool_currency"].upper()
        if not _CURRENCY.fullmatch(goal["currency"]):
            errors["pool_currency"] = _(
                "Name the currency with its three-letter code, such as EUR."
            )
    if kind == "quantity" and values["pool_unit"]:
        goal["unit"] = values["pool_unit"]
        if not _UNIT.fullmatch(goal["unit"]):
            errors["pool_unit"] = _("Name the unit in one word, such as kilogram or litre.")
    pool: dict[str, Any] = {"goal": goal}
    deadline = _deadline(values["pool_deadline"]) if values["pool_deadline"] else None
    if deadline is None:
        errors["pool_deadline"] = _("Give the day and time the pool closes.")
    else:
        pool["deadline"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    if values["pool_receives"]:
        pool["receives"] = values["pool_receives"]
    maximum = values["pool_maximum"].replace(",", ".").replace(" ", "")
    if maximum:
        if kind == "participants":
            errors["pool_maximum"] = _("Each participant takes one place: leave this empty.")
        elif not _DECIMAL.fullmatch(maximum):
            errors["pool_maximum"] = _("Write the maximum as a number such as 200.")
        else:
            pool["maximum_pledge"] = maximum
    return pool


def expiry_for_pool(pool: dict[str, Any], lifetime_days: int) -> str | None:
    """A listing left without an end must still be listed at the pool's
    deadline: the end of the deadline's day, when it falls after the usual lifetime."""
    deadline = datetime.fromisoformat(pool["deadline"].replace("Z", "+00:00"))
    if deadline <= datetime.now(UTC) + timedelta(days=lifetime_days - 1):
        return None
    return deadline.strftime("%Y-%m-%dT23:59:59Z")


def listing_field_errors(exc: NodeError) -> dict[str, str]:
    """:func:`field_errors`, with a pool's messages beside its own inputs."""
    found: dict[str, str] = {}
    rest = []
    for error in exc.extensions.get("errors", []):
        pointer = str(error.get("pointer", ""))
        if pointer == "/pool" or pointer.startswith("/pool/"):
            name = next((field for prefix, field in POOL_POINTERS.items()
                         if pointer.startswith(prefix)), "pool_kind")
            found.setdefault(name, str(error.get("reason", exc.detail)))
        else:
            rest.append(error)
    if rest or not found:
        for name, message in field_errors(ValidationFailed(exc.detail, errors=rest)).items():
            found.setdefault(name, message)
    return found
