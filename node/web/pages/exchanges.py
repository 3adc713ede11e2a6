"""Shared pieces of the exchange pages: words for states and events, the
listing summary shown above an offer, and reading offered terms from a form.

The routes live in :mod:`node.web.pages.exchange_list` (list, new offer),
:mod:`node.web.pages.exchange_view` (one exchange) and
:mod:`node.web.pages.exchange_actions` (every POST).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from multidict import MultiDictProxy

from node.errors import ValidationFailed
from node.services.context import NodeContext
from node.services.exchange_details import Party
from node.services.exchange_terms import Terms, is_returnable
from node.storage.records import Listing
from node.web.pages.forms import field_errors, text
from node.web.pages.site import gettext as _

_DECIMAL = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,10})?$")
MESSAGE_MAX = 2000


def state_label(state: str) -> str:
    labels = {
        "new": _("New"),
        "offered": _("Offer made"),
        "countered": _("Counter-offer made"),
        "rejected": _("Declined"),
        "withdrawn": _("Withdrawn"),
        "agreed": _("Agreed"),
        "handed_over": _("Handed over"),
        "on_loan": _("On loan"),
        "returned": _("Returned"),
        "completed_by_proposer": _("Completion confirmed by one party"),
        "completed_by_responder": _("Completion confirmed by one party"),
        "completed": _("Completed"),
        "cancelled": _("Cancelled"),
        "no_show": _("No-show reported"),
        "disputed": _("Disputed"),
    }
    return labels.get(state, state)


def mode_label(mode: str) -> str:
    labels = {
        "sell": _("For sale"), "rent": _("For rent"), "lend": _("To lend"),
        "share": _("To share"), "swap": _("To swap"), "give": _("To give away"),
        "service": _("Service"),
    }
    return labels.get(mode, mode)


def event_label(activity_type: str, actor: str) -> str:
    labels = {
        "Offer": _("%(actor)s made an offer", actor=actor),
        "Accept": _("%(actor)s accepted the offer", actor=actor),
        "Reject": _("%(actor)s declined the offer", actor=actor),
        "Undo": _("%(actor)s withdrew the offer", actor=actor),
        "Handover": _("%(actor)s confirmed the handover", actor=actor),
        "Return": _("%(actor)s confirmed the return", actor=actor),
        "Complete": _("%(actor)s confirmed completion", actor=actor),
        "Cancel": _("%(actor)s cancelled the exchange", actor=actor),
        "NoShow": _("%(actor)s reported a no-show", actor=actor),
        "Dispute": _("%(actor)s opened a dispute", actor=actor),
    }
    return labels.get(activity_type, f"{actor}: {activity_type}")


def period_label(per: str | None) -> str:
    """``P1D`` as "per day"; other durations as written."""
    if not per:
        return ""
    named = {"P1D": _("per day"), "P1W": _("per week"), "PT1H": _("per hour"),
             "P7D": _("per week"), "P30D": _("per month")}
    return named.get(per, _("per %(period)s", period=per))


def money(amount: Any, currency: str | None) -> str:
    return f"{amount} {currency}" if currency else str(amount)


def listing_summary(ctx: NodeContext, listing: Listing, author: Party | None) -> dict[str, Any]:
    """The facts of a listing an offer depends on, ready for the template."""
    fields = listing.fields
    price = fields.get("price")
    deposit = fields.get("deposit")
    local = listing.member_id is not None
    return {
        "iri": listing.iri,
        # Local listings have a page here; a remote one is shown by its own node.
        "url": listing.iri,
        "local": local,
        "title": listing.title,
        "mode": listing.mode,
        "mode_label": mode_label(listing.mode),
        "status": listing.status,
        "description": str(fields.get("description", ""))[:600],
        "quantity": int(fields.get("quantity", 1) or 1),
        "price": (
            f"{money(price['amount'], price['currency'])} {period_label(price.get('per'))}".strip()
            if price else None
        ),
        "unit_price": price["amount"] if price else None,
        "currency": price["currency"] if price else None,
        "wanted": fields.get("wanted"),
        "deposit": money(deposit["amount"], deposit["currency"]) if deposit else None,
        "booked": [(w["start"][:10], w["end"][:10]) for w in fields.get("booked", [])],
        "returnable": is_returnable(listing.mode),
        "dated": listing.mode in ("rent", "lend", "share", "service"),
        "author": author,
        "origin": listing.origin,
    }


def _invalid(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed(reason, errors=[{"pointer": f"/{field}", "reason": reason}])


def _day(form: MultiDictProxy[Any], name: str) -> str | None:
    value = text(form, name, max_length=40)
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise _invalid(name, _("enter a date like 2025-06-30")) from None
    # A day means midnight UTC at its start: a rental from the 1st to the 3rd is two days.
    return f"{day.isoformat()}T00:00:00Z"


def terms_from_form(form: MultiDictProxy[Any], *, with_price: bool) -> tuple[Terms, str | None]:
    """The Terms and message of an offer or counter-offer form."""
    raw_quantity = text(form, "quantity", max_length=8) or "1"
    if not raw_quantity.isdigit() or not 1 <= int(raw_quantity) <= 1_000_000:
        raise _invalid("quantity", _("enter a whole number of at least 1"))
    price = None
    if with_price:
        price = text(form, "price", max_length=32) or None
        if price is not None and not _DECIMAL.fullmatch(price):
            raise _invalid("price", _("enter an amount like 4.50"))
    message = text(form, "message", max_length=MESSAGE_MAX) or None
    terms = Terms(
        quantity=int(raw_quantity), starts_at=_day(form, "start"), ends_at=_day(form, "end"),
        price_amount=price,
    )
    return terms, message


def readable_errors(exc: ValidationFailed) -> dict[str, str]:
    """Field errors for a form; a lone error reads as the whole sentence."""
    errors = field_errors(exc)
    if len(errors) <= 1:
        return {next(iter(errors), "_form"): exc.detail}
    return errors


def form_values(form: MultiDictProxy[Any], *names: str) -> dict[str, str]:
    """What the member typed, to fill a form again after an error."""
    return {name: str(form.get(name, ""))[:2000] for name in names}
