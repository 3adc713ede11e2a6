"""The front page: what the community is, a search box, and recent listings."""

from __future__ import annotations

from aiohttp import web

from node.services import search
from node.storage.records import SearchQuery
from node.typedefs import context_key
from node.web.pages.listing_cards import listing_cards
from node.web.pages.site import page, render

routes = web.RouteTableDef()
RECENT_LISTINGS = 12


@routes.get("/")
@page
async def home(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    recent = await search.search(
        ctx, SearchQuery(sort="recent", local_only=True, limit=RECENT_LISTINGS)
    )
    cards = await listing_cards(ctx, [hit.listing for hit in recent.hits])
    return await render(
        request, "home.html", {"cards": cards, "more": recent.next_cursor is not None}
    )
