"""The client API's OpenAPI 3.1 document and the JSON Schemas it refers to."""

from __future__ import annotations

import json

from aiohttp import web

from node.errors import NotFound
from node.openapi_doc import build_openapi
from node.typedefs import context_key
from schemas import load_schema, schema_names

routes = web.RouteTableDef()


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    document = build_openapi(request.app[context_key].urls.base)
    return web.Response(text=json.dumps(document), content_type="application/json")


@routes.get("/schemas/{name}")
async def schema(request: web.Request) -> web.Response:
    name = request.match_info["name"].removesuffix(".schema.json").removesuffix(".json")
    if name not in schema_names():
        raise NotFound(f"no schema named {name!r}")
    return web.Response(
        text=json.dumps(load_schema(name)), content_type="application/schema+json"
    )
