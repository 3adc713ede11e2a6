"""Browsing and search: a GET form with filters over this community's
listings and those its partner communities share with it."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from aiohttp import web

from node.errors import ValidationFailed
from node.services import search
from node.typedefs import context_key
from node.web.pages.forms import field_errors
from node.web.pages.listing_cards import listing_cards
from node.web.pages.listing_text import mode_labels, purpose_labels
from node.web.pages.site import gettext as _
from node.web.pages.site import page, render

routes = web.RouteTableDef()
#: Query parameters the search form sends; anything else in the URL is ignored.
PARAMETERS = (
    "q", "purpose", "mode", "category", "min_price", "max_price", "currency",
    "lat", "lon", "radius_km", "scope", "sort", "status", "cursor",
)
SCOPES = ("all", "local")
PAGE_SIZE = 20


def _filters(request: web.Request) -> dict[str, str]:
    """The form's values, without the empty ones a GET form always sends."""
    found = {}
    for name in PARAMETERS:
        value = request.query.get(name, "").strip()
        if value:
            found[name] = value[:2100]
    return found


def _next_url(values: dict[str, str], cursor: str) -> str:
    return "/search?" + urlencode({**values, "cursor": cursor})


def _options() -> dict[str, list[tuple[str, str]]]:
    return {
        "purpose": [("", _("Offered or wanted")), *purpose_labels().items()],
        "mode": [("", _("Any kind of exchange")), *mode_labels().items()],
        "scope": [("all", _("This community and partner communities")),
                  ("local", _("Only this community"))],
        "sort": [("", _("Best match, then newest")), ("recent", _("Newest first")),
                 ("distance", _("Nearest first"))],
    }


@routes.get("/search")
@page
async def search_listings(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    values = _filters(request)
    errors: dict[str, str] = {}
    cards = []
    next_url = None
    scope = values.get("scope", "all")
    try:
        if scope not in SCOPES:
            raise ValidationFailed(
                "unknown scope", errors=[{"pointer": "/scope", "reason": _("choose a scope")}]
            )
        params = {k: v for k, v in values.items() if k != "scope"}
        query = replace(
            search.parse_query({**params, "limit": str(PAGE_SIZE)}), local_only=scope == "local"
        )
        found = await search.search(ctx, query)
        cards = await listing_cards(
            ctx, [hit.listing for hit in found.hits],
            {hit.listing.seq: hit.distance_km for hit in found.hits},
        )
        if found.next_cursor:
            next_url = _next_url({k: v for k, v in values.items() if k != "cursor"},
                                 found.next_cursor)
    except ValidationFailed as exc:
        errors = field_errors(exc)
    context = {
        "values": values,
        "errors": errors,
        "cards": cards,
        "next_url": next_url,
        "first_url": ("/search?" + urlencode({k: v for k, v in values.items() if k != "cursor"}))
        if "cursor" in values else None,
        "searched": bool(values),
        "filtered": bool(set(values) - {"q", "cursor"}),
        "options": _options(),
    }
    return await render(
        request, "listings/search.html", context, status=422 if errors else 200,
        title=_("Browse listings"),
    )
