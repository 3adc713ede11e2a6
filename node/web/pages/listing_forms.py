"""Creating and editing a listing through a form, with photos and a place
shown only as precisely as the member chooses."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from node.errors import Forbidden, NodeError, UnsupportedMediaType, ValidationFailed
from node.services import images, listings
from node.services.context import NodeContext
from node.services.listing_terms import PRECISION_ROUNDING
from node.services.listings import MEMBER_STATUSES
from node.storage.records import Listing, Member
from node.typedefs import context_key
from node.web.pages.forms import field_errors, read_form
from node.web.pages.listing_form_data import (
    MAX_IMAGES,
    ListingForm,
    blank_values,
    form_values,
    parse_listing_form,
)
from node.web.pages.listing_text import (
    duration_options,
    mode_labels,
    precision_labels,
    purpose_labels,
    status_labels,
)
from node.web.pages.pool_form import listing_field_errors, pool_kind_options
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_member

routes = web.RouteTableDef()
_FIRST_INPUT = {
    "price": "price_amount", "deposit": "deposit_amount", "period": "period_minimum",
    "location": "latitude",
}


def _options(values: dict[str, Any]) -> dict[str, Any]:
    statuses = status_labels()
    status_options = [(s, statuses[s]) for s in ("available", "reserved", "completed",
                                                 "withdrawn")]
    if values.get("status") == "expired":
        status_options.insert(0, ("expired", statuses["expired"]))
    return {
        "purpose": list(purpose_labels().items()),
        "mode": list(mode_labels().items()),
        "precision": list(precision_labels().items()),
        "price_per": duration_options(values.get("price_per", "")),
        "period_minimum": duration_options(values.get("period_minimum", "")),
        "period_maximum": duration_options(values.get("period_maximum", "")),
        "status": status_options,
        "pool_kind": pool_kind_options(),
        # kula.js previews the rounded place with the same digits the server keeps.
        "precision_digits": json.dumps({k: v[0] for k, v in PRECISION_ROUNDING.items()}),
    }


async def _existing_images(ctx: NodeContext, listing: Listing | None) -> list[dict[str, str]]:
    if listing is None:
        return []
    found = []
    async with ctx.storage.read() as session:
        for image_id in listing.fields.get("images", []):
            image = await session.get_image(image_id)
            if image is not None:
                found.append({"id": image.id, "thumbnail": ctx.urls.media(image.thumbnail_filename),
                              "alt": image.description})
    return found


async def _render_form(
    request: web.Request,
    listing: Listing | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> web.Response:
    ctx = request.app[context_key]
    errors = errors or {}
    context = {
        "listing": listing,
        "values": values,
        "errors": errors,
        # A message about a group of inputs (a price) shows beside its first input.
        "input_errors": {_FIRST_INPUT.get(name, name): text for name, text in errors.items()},
        "options": _options(values),
        "pool_has_error": any(name.startswith("pool_") for name in errors),
        "existing_images": await _existing_images(ctx, listing),
        "max_images": MAX_IMAGES,
        "action": f"/listings/{quote(listing.id)}/edit" if listing else "/listings/new",
    }
    title = _("Edit “%(title)s”", title=listing.title) if listing else _("New listing")
    return await render(request, "listings/form.html", context,
                        status=422 if errors else 200, title=title)


async def _store_uploads(ctx: NodeContext, member: Member, form: ListingForm) -> list[str]:
    """Keep the uploaded photos (re-encoded, metadata stripped) or none of them."""
    stored: list[str] = []
    try:
        for data in form.uploads:
            image = await images.store_image(ctx, member, data, form.values["image_description"])
            stored.append(image.id)
    except (UnsupportedMediaType, ValidationFailed) as exc:
        await images.discard_unused(ctx, member, stored)
        form.errors["images"] = exc.detail
        return []
    return stored


async def _owned(request: web.Request, member: Member) -> Listing:
    listing = await listings.get_listing(request.app[context_key], request.match_info["listing_id"])
    if listing.member_id != member.id:
        raise Forbidden(_("Only the listing's author can change it."))
    return listing


@routes.get("/listings/new")
@page
async def new_listing_form(request: web.Request) -> web.Response:
    await require_member(request)
    return await _render_form(request, None, blank_values())


@routes.post("/listings/new")
@page
async def create_listing(request: web.Request) -> web.Response:
    principal = await require_member(request)
    ctx = request.app[context_key]
    form = parse_listing_form(await read_form(request), kept_images=[], with_pool=True)
    stored = [] if form.errors else await _store_uploads(ctx, principal.member, form)
    if form.errors:
        return await _render_form(request, None, form.values, form.errors)
    fields = {k: v for k, v in form.fields.items() if v is not None}
    fields["images"] = stored
    try:
        listing = await listings.create_listing(ctx, principal.member, fields)
    except ValidationFailed as exc:
        await images.discard_unused(ctx, principal.member, stored)
        return await _render_form(request, None, form.values, listing_field_errors(exc))
    raise redirect(request, f"/listings/{quote(listing.id)}", _("Your listing is published."))


@routes.get("/listings/{listing_id}/edit")
@page
async def edit_listing_form(request: web.Request) -> web.Response:
    principal = await require_member(request)
    listing = await _owned(request, principal.member)
    return await _render_form(request, listing, form_values(listing.fields, listing.status))


@routes.post("/listings/{listing_id}/edit")
@page
async def update_listing(request: web.Request) -> web.Response:
    principal = await require_member(request)
    ctx = request.app[context_key]
    listing = await _owned(request, principal.member)
    form = parse_listing_form(
        await read_form(request), list(listing.fields.get("images", [])),
        listing.fields.get("expires_at") or "",
    )
    status = form.values["status"]
    if status not in MEMBER_STATUSES | {"expired"}:
        form.errors["status"] = _("Choose a status from the menu.")
    stored = [] if form.errors else await _store_uploads(ctx, principal.member, form)
    if form.errors:
        return await _render_form(request, listing, form.values, form.errors)
    changes = {**form.fields, "images": [*form.fields["images"], *stored]}
    if status != listing.status and status != "expired":
        changes["status"] = status
    try:
        updated = await listings.update_listing(ctx, principal.member, listing.id, changes)
    except NodeError as exc:
        await images.discard_unused(ctx, principal.member, stored)
        if not isinstance(exc, ValidationFailed):
            raise
        return await _render_form(request, listing, form.values, field_errors(exc))
    await images.discard_unused(ctx, principal.member, form.remove_images)
    raise redirect(request, f"/listings/{quote(updated.id)}", _("Your changes are published."))
