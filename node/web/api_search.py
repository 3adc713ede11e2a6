"""Client API: search over local (and, with federation, remote) listings."""

from __future__ import annotations

from aiohttp import web

from node.services import search
from node.typedefs import context_key
from node.web.representations import hit_json

routes = web.RouteTableDef()


@routes.get("/api/v1/search")
async def search_listings(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    query = search.parse_query(request.query)
    page = await search.search(ctx, query)
    return web.json_response(
        {"items": [hit_json(ctx, hit) for hit in page.hits], "next_cursor": page.next_cursor}
    )
