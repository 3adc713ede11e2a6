"""Liveness (``/healthz``) and readiness (``/readyz``) for operators' monitors."""

from __future__ import annotations

from aiohttp import web

from node.typedefs import storage_key

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    try:
        await request.app[storage_key].ping()
    except Exception as exc:  # any failure to answer means "not ready", never a crash
        return web.json_response({"status": "unavailable", "detail": str(exc)}, status=503)
    return web.json_response({"status": "ready"})
