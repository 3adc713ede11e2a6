"""Words for a listing's terms: the labels of modes and precisions, durations
and prices as a member reads them. Functions, not constants, so each request
gets its own language."""

from __future__ import annotations

import re
from typing import Any

from node.services.listing_terms import PRECISION_ROUNDING
from node.web.pages.site import gettext as _
from node.web.pages.site import ngettext

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
#: Durations offered in the forms' menus; a listing made through the API may hold others.
COMMON_DURATIONS = ("PT1H", "P1D", "P2D", "P1W", "P2W", "P1M", "P3M", "P1Y")


def purpose_labels() -> dict[str, str]:
    return {"offer": _("Offered"), "request": _("Wanted")}


def mode_labels() -> dict[str, str]:
    return {
        "sell": _("For sale"),
        "rent": _("For rent"),
        "lend": _("To lend"),
        "share": _("To share"),
        "swap": _("To swap"),
        "give": _("To give away"),
        "service": _("Service"),
    }


def status_labels() -> dict[str, str]:
    return {
        "available": _("Available"),
        "reserved": _("Reserved"),
        "completed": _("Completed"),
        "withdrawn": _("Withdrawn"),
        "expired": _("Expired"),
    }


def precision_labels() -> dict[str, str]:
    """What others see of a location at each precision the listing terms define."""
    labels = {
        "exact": _("Exact spot (others see it to about 10 m)"),
        "street": _("Street (others see it to about 150 m)"),
        "neighbourhood": _("Neighbourhood (others see it to about 1.5 km)"),
        "city": _("City (others see it to about 15 km)"),
        "region": _("Region (others see it to about 150 km)"),
    }
    assert set(labels) == set(PRECISION_ROUNDING), "a precision without a label"
    return labels


def _duration_parts(duration: str) -> list[tuple[str, int]] | None:
    match = _DURATION.fullmatch(duration)
    if match is None:
        return None
    return [(unit, int(count)) for unit, count in match.groupdict().items() if count]


def duration_text(duration: str) -> str:
    """``P2W`` as "2 weeks"; an unreadable value is shown as it is."""
    parts = _duration_parts(duration)
    if not parts:
        return duration
    words = {
        "years": lambda n: ngettext("%(num)s year", "%(num)s years", n),
        "months": lambda n: ngettext("%(num)s month", "%(num)s months", n),
        "weeks": lambda n: ngettext("%(num)s week", "%(num)s weeks", n),
        "days": lambda n: ngettext("%(num)s day", "%(num)s days", n),
        "hours": lambda n: ngettext("%(num)s hour", "%(num)s hours", n),
        "minutes": lambda n: ngettext("%(num)s minute", "%(num)s minutes", n),
        "seconds": lambda n: ngettext("%(num)s second", "%(num)s seconds", n),
    }
    return ", ".join(words[unit](count) for unit, count in parts)


def per_text(duration: str) -> str:
    """``P1D`` as "per day", ``P3D`` as "per 3 days"."""
    parts = _duration_parts(duration)
    if parts and len(parts) == 1 and parts[0][1] == 1:
        single = {
            "years": _("per year"), "months": _("per month"), "weeks": _("per week"),
            "days": _("per day"), "hours": _("per hour"), "minutes": _("per minute"),
            "seconds": _("per second"),
        }
        return single[parts[0][0]]
    return _("per %(period)s", period=duration_text(duration))


def duration_options(current: str = "") -> list[tuple[str, str]]:
    """Choices for a duration menu, keeping a value set elsewhere selectable."""
    options = [("", _("Not set")), *((d, duration_text(d)) for d in COMMON_DURATIONS)]
    if current and current not in COMMON_DURATIONS:
        options.append((current, duration_text(current)))
    return options


def money_text(money: dict[str, Any]) -> str:
    return f"{money['amount']} {money['currency']}"


def terms_summary(fields: dict[str, Any]) -> str:
    """One line for a card: what it costs or what it takes."""
    price = fields.get("price")
    mode = fields.get("mode")
    if price:
        text = money_text(price)
        if price.get("per"):
            text = f"{text} {per_text(price['per'])}"
    elif mode == "swap" and fields.get("wanted"):
        text = _("Swap for: %(wanted)s", wanted=fields["wanted"])
    elif mode == "give":
        text = _("Free")
    elif mode == "lend":
        text = _("Free loan")
    else:
        text = _("Terms to agree")
    if fields.get("deposit"):
        text = _("%(terms)s, deposit %(deposit)s", terms=text,
                 deposit=money_text(fields["deposit"]))
    return text
