"""A member's exchanges, and the offer form for a listing here or elsewhere."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import NotFound, ValidationFailed
from node.federation import lookup
from node.services import exchange_details, exchanges
from node.services.actors import member_actor
from node.services.exchange_terms import takes_offers
from node.services.pool_terms import PoolTakesNoOffers, is_pool
from node.storage.records import Listing
from node.typedefs import context_key
from node.web.pages.exchanges import (
    MESSAGE_MAX,
    form_values,
    listing_summary,
    readable_errors,
    state_label,
    terms_from_form,
)
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_member

routes = web.RouteTableDef()
_GROUPS = ("received", "sent", "active", "closed")


@routes.get("/exchanges")
@page
async def exchange_list(request: web.Request) -> web.Response:
    principal = await require_member(request)
    rows = await exchange_details.list_for(request.app[context_key], principal.member)
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name in _GROUPS}
    for row in rows:
        groups[row.group].append({
            "id": row.exchange.id,
            "title": row.listing_title or _("A listing"),
            "counterparty": row.counterparty,
            "state": state_label(row.exchange.state),
            "updated": row.exchange.updated_at,
        })
    headings = {
        "received": _("Offers waiting for your answer"),
        "sent": _("Offers you sent"),
        "active": _("In progress"),
        "closed": _("Finished"),
    }
    return await render(request, "exchanges/list.html", {
        "groups": [(name, headings[name], groups[name]) for name in _GROUPS],
        "empty": not rows,
    }, title=_("Exchanges"))


async def _listing(request: web.Request, reference: str) -> Listing:
    """A listing on this node, or a remote one fetched and verified on demand."""
    ctx = request.app[context_key]
    if not reference or len(reference) > 2048:
        raise NotFound(_("name a listing to make an offer for"))
    if reference.startswith(("https://", "http://")) and not reference.startswith(
        ctx.urls.base + "/"
    ):
        listing = await lookup.remote_listing(ctx, reference)
    else:
        async with ctx.storage.read() as session:
            found = (
                await session.get_listing_by_iri(reference)
                if reference.startswith(ctx.urls.base + "/")
                else await session.get_listing(reference)
            )
        if found is None or found.deleted_at is not None:
            raise NotFound(_("no such listing"))
        listing = found
    return listing


async def _render_offer_form(
    request: web.Request,
    listing: Listing,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        author = await exchange_details.describe_party(ctx, session, listing.author_iri)
    summary = listing_summary(ctx, listing, author)
    principal = await require_member(request)
    own = listing.author_iri == member_actor(ctx, principal.member).iri
    return await render(request, "exchanges/new.html", {
        "listing": summary,
        "own": own,
        "open": takes_offers(listing),
        "values": values or {"quantity": "1", "start": "", "end": "", "message": ""},
        "errors": errors or {},
        "message_max": MESSAGE_MAX,
    }, status=status, title=_("Make an offer"))


@routes.get("/exchanges/new")
@page
async def new_offer(request: web.Request) -> web.Response:
    await require_member(request)
    listing = await _listing(request, request.query.get("listing", "").strip())
    if is_pool(listing):  # the listing page has the pledge form instead
        raise PoolTakesNoOffers(_("this listing is a pool: pledge to it from its page"))
    return await _render_offer_form(request, listing)


@routes.post("/exchanges/new")
@page
async def create_offer(request: web.Request) -> web.StreamResponse:
    principal = await require_member(request)
    form = await read_form(request)
    listing = await _listing(request, text(form, "listing", max_length=2048))
    values = form_values(form, "quantity", "start", "end", "message")
    try:
        terms, message = terms_from_form(form, with_price=False)
        exchange = await exchanges.make_offer(
            request.app[context_key], principal.member, listing.iri, terms, message
        )
    except ValidationFailed as exc:
        return await _render_offer_form(
            request, listing, values=values, errors=readable_errors(exc), status=exc.status
        )
    raise redirect(request, f"/exchanges/{exchange.id}", _("Your offer was sent."))
