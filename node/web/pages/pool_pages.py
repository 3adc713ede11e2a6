"""Pledging to a pool, and withdrawing a pledge, from the listing page.

The pool's part of the page is :mod:`node.web.pages.listing_pool`; these
handlers call :mod:`node.services.pools` as the API does. A refused pledge
(closed pool, a pledge already live, an amount out of bounds) shows the
listing page again with the reason beside the form and the problem's status.
"""

from __future__ import annotations

import re

from aiohttp import web

from node.errors import NodeError, ValidationFailed
from node.services import pools
from node.storage.records import Listing
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.listing_cards import listing_page_url
from node.web.pages.listing_view import render_listing
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, require_member
from node.web.requests import limit_write

routes = web.RouteTableDef()
_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,10})?$")
MAX_MESSAGE = 2000


async def _held_listing(request: web.Request) -> Listing:
    async with request.app[context_key].storage.read() as session:
        return await pools.listing_by_id(session, request.match_info["listing_id"])


def _pool_anchor(listing: Listing) -> str:
    return listing_page_url(listing) + "#pool"


@routes.post("/listings/{listing_id}/pledge")
@page
async def pledge(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    listing = await _held_listing(request)
    form = await read_form(request)
    amount = text(form, "amount", max_length=40).replace(",", ".").replace(" ", "")
    message = text(form, "message", max_length=MAX_MESSAGE)
    values = {"amount": amount, "message": message}
    if amount and not _AMOUNT.fullmatch(amount):
        return await render_listing(request, listing, status=422, forms={"pool_form": {
            **values, "error": _("Write the amount as a number such as 12.50."),
        }})
    try:
        await pools.pledge(request.app[context_key], principal.member, listing.id,
                           amount or None, message or None)
    except NodeError as exc:
        return await render_listing(request, listing, status=exc.status, forms={
            "pool_form": {**values, "error": _pledge_refusal(exc)},
        })
    raise redirect(request, _pool_anchor(listing), _("Your pledge is counted."))


def _pledge_refusal(exc: NodeError) -> str:
    """The reason a pledge was refused, as the form shows it."""
    if isinstance(exc, ValidationFailed):
        reasons = [str(e.get("reason", "")) for e in exc.extensions.get("errors", [])]
        if reasons and reasons[0]:
            return reasons[0]
    return exc.detail


@routes.post("/listings/{listing_id}/pledges/{pledge_id}/withdraw")
@page
async def withdraw(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    listing = await _held_listing(request)
    try:
        await pools.withdraw(request.app[context_key], principal.member, listing.id,
                             request.match_info["pledge_id"])
    except NodeError as exc:
        return await render_listing(request, listing, status=exc.status, forms={
            "pool_form": {"error": exc.detail},
        })
    raise redirect(request, _pool_anchor(listing), _("Your pledge is withdrawn."))

