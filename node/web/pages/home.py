"""The front page: what the community is, a search box, and recent listings."""

from __future__ import annotations

from aiohttp import web

from node.web.pages.site import page, render

routes = web.RouteTableDef()


@routes.get("/")
@page
async def home(request: web.Request) -> web.Response:
    return await render(request, "home.html")
