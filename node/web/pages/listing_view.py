"""A listing as a page: its images, terms, calendar, place and author, and
what a member can do with it. The same IRI answers JSON-LD to servers
(:func:`node.web.activitypub.listing_object` hands browsers to
:func:`listing_page`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from node.errors import Gone, NotFound, ValidationFailed
from node.federation import lookup
from node.federation.policy import host_allowed
from node.services import images, listings
from node.services.context import NodeContext
from node.storage.records import Listing, Member
from node.timeutil import utc_now
from node.typedefs import context_key
from node.web.pages.listing_calendar import month_view, parse_month
from node.web.pages.listing_cards import authors_of, images_of, origin_names
from node.web.pages.listing_pool import pool_section
from node.web.pages.listing_questions import question_section
from node.web.pages.listing_text import (
    duration_text,
    mode_labels,
    money_text,
    per_text,
    precision_labels,
    purpose_labels,
    status_labels,
)
from node.web.pages.sessions import current_principal
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_member

routes = web.RouteTableDef()
#: Modes whose dates matter, so the page shows a calendar.
CALENDAR_MODES = frozenset({"rent", "lend", "share"})
#: Map zoom that roughly matches each precision's uncertainty.
_MAP_ZOOM = {"exact": 17, "street": 16, "neighbourhood": 14, "city": 11, "region": 8}


def _terms(fields: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(_("Offered or wanted"), purpose_labels().get(fields["purpose"], fields["purpose"])),
            (_("Kind of exchange"), mode_labels().get(fields["mode"], fields["mode"]))]
    if price := fields.get("price"):
        per = f" {per_text(price['per'])}" if price.get("per") else ""
        rows.append((_("Price"), money_text(price) + per))
    elif fields["mode"] == "give":
        rows.append((_("Price"), _("Free")))
    if fields.get("wanted"):
        rows.append((_("Wanted in return"), fields["wanted"]))
    if deposit := fields.get("deposit"):
        rows.append((_("Deposit"), money_text(deposit)))
    period = fields.get("period") or {}
    if period.get("minimum"):
        rows.append((_("Shortest period"), duration_text(period["minimum"])))
    if period.get("maximum"):
        rows.append((_("Longest period"), duration_text(period["maximum"])))
    rows.append((_("Quantity available"), str(fields.get("quantity", 1))))
    if fields.get("expires_at"):
        rows.append((_("Listed until"), str(fields["expires_at"])[:10]))
    return rows


def _location(fields: dict[str, Any]) -> dict[str, Any] | None:
    location = fields.get("location")
    if not location:
        return None
    precision = location.get("precision", "city")
    lat, lon = location["latitude"], location["longitude"]
    zoom = _MAP_ZOOM.get(precision, 11)
    return {
        "name": location.get("name") or "",
        "latitude": lat,
        "longitude": lon,
        "precision": precision_labels().get(precision, precision),
        "map_url": "https://www.openstreetmap.org/?"
        + urlencode({"mlat": lat, "mlon": lon}) + f"#map={zoom}/{lat}/{lon}",
    }


async def _acts_as_admin(request: web.Request) -> bool:
    principal = await current_principal(request)
    return principal is not None and principal.allows("admin")


async def _context(
    request: web.Request, ctx: NodeContext, listing: Listing, me: Member | None
) -> dict[str, Any]:
    fields = listing.fields
    today = utc_now().date()
    authors = await authors_of(ctx, [listing])
    author = authors.get(listing.author_iri)
    origin = (await origin_names(ctx, {listing.origin}))[listing.origin]
    is_author = me is not None and listing.member_id == me.id
    calendar = None
    if fields.get("mode") in CALENDAR_MODES or fields.get("availability") or fields.get("booked"):
        year, month = parse_month(request.query.get("month"), today)
        calendar = month_view(fields, year, month, today)
    original = listing.document.get("url")
    pool = await pool_section(ctx, listing, me)
    return {
        # Pooled pledges and public questions (issue #9), each with its form's state.
        "pool": pool,
        "questions": await question_section(
            ctx, listing, me, is_admin=await _acts_as_admin(request)
        ),
        "pool_form": {},
        "question_form": {},
        "listing": listing,
        "fields": fields,
        "local": listing.member_id is not None,
        "status_label": status_labels().get(listing.status, listing.status),
        "images": images_of(listing),
        "terms": _terms(fields),
        "windows": [(w["start"][:10], w["end"][:10]) for w in fields.get("availability", [])],
        "location": _location(fields),
        "calendar": calendar,
        "author": author,
        "origin_name": origin,
        "original_url": original if isinstance(original, str)
        and original.startswith(("https://", "http://")) else listing.iri,
        "is_author": is_author,
        # One joins a pool by pledging, not by proposing an exchange.
        "can_offer": not is_author and listing.status == "available" and not pool,
        "offer_url": "/exchanges/new?" + urlencode({"listing": listing.iri}),
        "report_url": "/report?" + urlencode({"kind": "listing", "target": listing.iri}),
        "month_base": request.path + "?" + (
            "" if listing.member_id is not None else urlencode({"iri": listing.iri}) + "&"
        ) + "month=",
    }


async def render_listing(
    request: web.Request, listing: Listing, *, status: int = 200,
    forms: dict[str, Any] | None = None,
) -> web.Response:
    """The listing page, here or a partner's copy; ``forms`` carries a refused
    form's message and values (``pool_form``, ``question_form``)."""
    principal = await current_principal(request)
    ctx = request.app[context_key]
    context = await _context(request, ctx, listing, principal.member if principal else None)
    context.update(forms or {})
    return await render(request, "listings/listing.html", context, status=status,
                        title=listing.title)


@page
async def listing_page(request: web.Request) -> web.Response:
    """``/listings/{listing_id}`` for browsers."""
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        listing = await session.get_listing(request.match_info["listing_id"])
    if listing is None or listing.member_id is None:
        raise NotFound(_("There is no such listing here."))
    if listing.deleted_at is not None:
        raise Gone(_("Its author deleted this listing."))
    principal = await current_principal(request)
    context = await _context(request, ctx, listing, principal.member if principal else None)
    return await render(request, "listings/listing.html", context, title=listing.title)


@routes.get("/remote/listing")
@page
async def remote_listing_page(request: web.Request) -> web.Response:
    """A partner community's listing, from the copy this node holds."""
    ctx = request.app[context_key]
    iri = request.query.get("iri", "")
    if not iri.startswith(("https://", "http://")) or len(iri) > 2048:
        raise ValidationFailed(_("Give the address (IRI) of a listing."))
    async with ctx.storage.read() as session:
        listing = await session.get_listing_by_iri(iri)
        allowed = listing is None or await host_allowed(ctx, session, listing.origin)
    principal = await current_principal(request)
    if listing is None and principal is not None:
        # Members may bring in a listing they were sent; strangers cannot make us fetch.
        listing = await lookup.remote_listing(ctx, iri)
    if listing is None or not allowed:
        raise NotFound(_("This community holds no copy of that listing."))
    if listing.member_id is not None:
        raise web.HTTPSeeOther(f"/listings/{quote(listing.id)}")
    if listing.deleted_at is not None:
        raise Gone(_("Its author deleted this listing."))
    context = await _context(request, ctx, listing, principal.member if principal else None)
    return await render(request, "listings/listing.html", context, title=listing.title)


@routes.post("/listings/{listing_id}/withdraw")
@page
async def withdraw(request: web.Request) -> web.Response:
    principal = await require_member(request)
    listing = await listings.withdraw_listing(
        request.app[context_key], principal.member, request.match_info["listing_id"]
    )
    raise redirect(request, f"/listings/{quote(listing.id)}",
                   _("The listing is withdrawn: nobody can make an offer on it now."))


@routes.post("/listings/{listing_id}/delete")
@page
async def delete(request: web.Request) -> web.Response:
    principal = await require_member(request)
    ctx = request.app[context_key]
    listing = await listings.get_listing(ctx, request.match_info["listing_id"])
    await listings.delete_listing(ctx, principal.member, listing.id)
    await images.discard_unused(ctx, principal.member, list(listing.image_ids))
    raise redirect(request, "/", _("The listing “%(title)s” is deleted.", title=listing.title))
