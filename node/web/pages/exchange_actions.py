"""Every change to an exchange from its page: one POST per action, through
the same services as the client API. A refused action shows the exchange
again with the reason (409 for the wrong moment, 422 for bad input)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from node.errors import Conflict, ValidationFailed
from node.services import attestations, exchanges
from node.typedefs import context_key
from node.web.pages.exchange_view import show_exchange
from node.web.pages.exchanges import MESSAGE_MAX, form_values, readable_errors, terms_from_form
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, require_member
from protocol.errors import ExchangeStateError

routes = web.RouteTableDef()
Operation = Callable[[], Awaitable[Any]]


async def _attempt(
    request: web.Request, operation: Operation, notice: str, *,
    failed: str = "", values: dict[str, str] | None = None,
) -> web.StreamResponse:
    exchange_id = request.match_info["exchange_id"]
    try:
        await operation()
    except ValidationFailed as exc:
        return await show_exchange(
            request, exchange_id, status=exc.status, failed=failed, values=values,
            errors=readable_errors(exc),
        )
    except (ExchangeStateError, Conflict) as exc:
        # Someone acted first (or twice): show the exchange as it now stands.
        return await show_exchange(
            request, exchange_id, status=409,
            error=_("That could not be done: %(reason)s", reason=exc.detail),
        )
    raise redirect(request, f"/exchanges/{exchange_id}", notice)


def _reason(form: Any) -> str | None:
    return text(form, "content", max_length=2000) or None


@routes.post("/exchanges/{exchange_id}/accept")
@page
async def accept(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    ctx, exchange_id = request.app[context_key], request.match_info["exchange_id"]
    return await _attempt(
        request, lambda: exchanges.accept(ctx, principal.member, exchange_id),
        _("You accepted the offer."),
    )


@routes.post("/exchanges/{exchange_id}/reject")
@routes.post("/exchanges/{exchange_id}/withdraw")
@page
async def answer(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    ctx, exchange_id = request.app[context_key], request.match_info["exchange_id"]
    reason = _reason(await read_form(request))
    rejecting = request.path.endswith("/reject")
    return await _attempt(
        request,
        lambda: exchanges.answer_offer(
            ctx, principal.member, exchange_id, "Reject" if rejecting else "Undo", reason
        ),
        _("You declined the offer.") if rejecting else _("You withdrew your offer."),
    )


@routes.post("/exchanges/{exchange_id}/counter")
@page
async def counter(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    ctx, exchange_id = request.app[context_key], request.match_info["exchange_id"]
    form = await read_form(request)
    values = form_values(form, "quantity", "start", "end", "price", "message")

    async def operation() -> None:
        terms, message = terms_from_form(form, with_price=True)
        await exchanges.counter_offer(ctx, principal.member, exchange_id, terms, message)

    return await _attempt(
        request, operation, _("Your new terms were sent."), failed="counter", values=values
    )


def _lifecycle_notice(action: str) -> str:
    notices = {
        "handover": _("You confirmed the handover."),
        "return": _("You confirmed the return."),
        "complete": _("You confirmed completion."),
        "cancel": _("You cancelled the exchange."),
        "no-show": _("You reported a no-show."),
        "dispute": _("You opened a dispute."),
    }
    return notices[action]


async def lifecycle(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    ctx, exchange_id = request.app[context_key], request.match_info["exchange_id"]
    action = request.path.rsplit("/", 1)[-1]
    form = await read_form(request)
    reason = _reason(form)
    return await _attempt(
        request,
        lambda: exchanges.lifecycle(ctx, principal.member, exchange_id, action, reason),
        _lifecycle_notice(action), failed=action, values={"content": reason or ""},
    )


for _action in ("handover", "return", "complete", "cancel", "no-show", "dispute"):
    routes.post(f"/exchanges/{{exchange_id}}/{_action}")(page(lifecycle))


@routes.post("/exchanges/{exchange_id}/messages")
@page
async def send_message(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    ctx, exchange_id = request.app[context_key], request.match_info["exchange_id"]
    form = await read_form(request)
    values = form_values(form, "text")

    async def operation() -> None:
        body = text(form, "text", max_length=MESSAGE_MAX)
        await exchanges.send_message(ctx, principal.member, exchange_id, body)

    return await _attempt(
        request, operation, _("Your message was sent."), failed="message", values=values
    )


@routes.post("/exchanges/{exchange_id}/attestation")
@page
async def attest(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    ctx, exchange_id = request.app[context_key], request.match_info["exchange_id"]
    form = await read_form(request)
    values = form_values(form, "rating", "comment")

    async def operation() -> None:
        raw = text(form, "rating", max_length=2)
        rating = attestations.check_rating(int(raw) if raw.isdigit() else None)
        comment = text(form, "comment", max_length=2000) or None
        await attestations.issue(ctx, principal.member, exchange_id, rating, comment)

    return await _attempt(
        request, operation, _("Your rating was published."), failed="attestation",
        values=values,
    )
