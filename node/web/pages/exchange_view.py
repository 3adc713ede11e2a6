"""One exchange as a party sees it: terms, history, what they may do next,
the private messages, and the attestations once it is completed."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.services import exchange_details
from node.services.exchange_details import Details, agreed_deposit, agreed_price
from node.typedefs import context_key
from node.web.pages.exchanges import (
    MESSAGE_MAX,
    event_label,
    listing_summary,
    mode_label,
    money,
    state_label,
)
from node.web.pages.site import gettext as _
from node.web.pages.site import page, render, require_member
from protocol.exchange_states import ExchangeState

routes = web.RouteTableDef()
S = ExchangeState
#: One-button actions in the order they appear: (activity, path, asks to confirm).
_BUTTONS = (
    ("Accept", "accept", False),
    ("Handover", "handover", False),
    ("Return", "return", False),
    ("Complete", "complete", False),
    ("Reject", "reject", True),
    ("Undo", "withdraw", True),
    ("NoShow", "no-show", True),
)


def _button_label(activity: str) -> str:
    # Spelled out so the catalogue extractor sees every label.
    labels = {
        "Accept": _("Accept the offer"),
        "Handover": _("Confirm the handover"),
        "Return": _("Confirm the return"),
        "Complete": _("Confirm completion"),
        "Reject": _("Decline the offer"),
        "Undo": _("Withdraw your offer"),
        "NoShow": _("Report a no-show"),
    }
    return labels[activity]


def _buttons(details: Details) -> list[dict[str, Any]]:
    base = f"/exchanges/{details.exchange.id}"
    return [
        {
            "action": f"{base}/{path}",
            "label": _button_label(activity),
            "confirm": _("Are you sure? This cannot be undone.") if confirm else "",
            "style": "danger" if confirm else "",
        }
        for activity, path, confirm in _BUTTONS
        if activity in details.allowed
    ]


def _waiting_note(details: Details) -> str:
    state = S(details.exchange.state)
    if details.allowed & {"Accept", "Handover", "Return", "Complete"}:
        return ""
    if state in (S.OFFERED, S.COUNTERED):
        return _("Waiting for %(name)s to answer your offer.", name=details.counterparty.name)
    if state in (S.COMPLETED_BY_PROPOSER, S.COMPLETED_BY_RESPONDER):
        return _("You confirmed completion; waiting for %(name)s to confirm too.",
                 name=details.counterparty.name)
    return ""


def _terms(details: Details) -> dict[str, Any]:
    exchange = details.exchange
    price = agreed_price(exchange.agreement)
    deposit = agreed_deposit(exchange.agreement)
    pending_by = None
    if S(exchange.state) in (S.OFFERED, S.COUNTERED) and exchange.pending_offer_role:
        pending_by = (
            _("you") if exchange.pending_offer_role == details.role.value
            else details.counterparty.name
        )
    return {
        "quantity": exchange.quantity,
        "start": (exchange.starts_at or "")[:10],
        "end": (exchange.ends_at or "")[:10],
        "price": money(*price) if price else None,
        "deposit": money(*deposit) if deposit else None,
        "pending_by": pending_by,
        "my_role": details.party_roles.get(details.viewer.iri),
        "their_role": details.party_roles.get(details.counterparty.iri),
        "reason": exchange.reason,
    }


def _party_name(details: Details, iri: str) -> str:
    if iri == details.viewer.iri:
        return _("You")
    return details.counterparty.name if iri == details.counterparty.iri else iri


async def show_exchange(
    request: web.Request,
    exchange_id: str,
    *,
    status: int = 200,
    error: str = "",
    failed: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    """Render the exchange page; actions re-render it with their error."""
    principal = await require_member(request)
    ctx = request.app[context_key]
    details = await exchange_details.details_for(ctx, principal.member, exchange_id)
    exchange = details.exchange
    listing = (
        listing_summary(ctx, details.listing, None) if details.listing is not None else None
    )
    shown_forms = {"message"} | {
        form for form, activity in (("counter", "Offer"), ("cancel", "Cancel"),
                                    ("dispute", "Dispute"))
        if activity in details.allowed
    }
    if exchange.state == S.COMPLETED.value:
        shown_forms.add("attestation")
    if failed and errors and failed not in shown_forms:
        # The form is gone (the exchange moved on): say what was wrong at the top.
        error = error or "; ".join(errors.values())
    mine = details.attestations.get(details.viewer.iri)
    theirs = details.attestations.get(details.counterparty.iri)
    defaults = {
        "quantity": str(exchange.quantity), "start": (exchange.starts_at or "")[:10],
        "end": (exchange.ends_at or "")[:10], "price": "", "message": "", "content": "",
        "text": "", "rating": str(mine.rating) if mine else "5",
        "comment": (mine.comment or "") if mine else "",
    }
    return await render(request, "exchanges/view.html", {
        "exchange": exchange,
        "details": details,
        "state": state_label(exchange.state),
        "mode": mode_label(exchange.mode),
        "listing": listing,
        "terms": _terms(details),
        "buttons": _buttons(details),
        "can_counter": "Offer" in details.allowed,
        "counter_label": (
            _("Make a new offer") if exchange.state == S.REJECTED.value
            else _("Propose different terms")
        ),
        "can_cancel": "Cancel" in details.allowed,
        "can_dispute": "Dispute" in details.allowed,
        "waiting": _waiting_note(details),
        "events": [
            {"label": event_label(e.type, _party_name(details, e.actor_iri)),
             "at": e.created_at, "content": e.content}
            for e in details.events
        ],
        "messages": [
            {"author": _party_name(details, m.author_iri), "content": m.content,
             "mine": m.author_iri == details.viewer.iri, "at": m.published}
            for m in details.messages
        ],
        "completed": exchange.state == S.COMPLETED.value,
        "my_attestation": mine,
        "their_attestation": theirs,
        "message_max": MESSAGE_MAX,
        "error": error,
        "failed": failed,
        "errors": errors or {},
        "values": {**defaults, **(values or {})},
    }, status=status, title=listing["title"] if listing else _("Exchange"))


@routes.get("/exchanges/{exchange_id}")
@page
async def exchange_page(request: web.Request) -> web.Response:
    return await show_exchange(request, request.match_info["exchange_id"])
