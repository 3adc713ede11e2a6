"""Uploaded media, served from the data directory with long-lived caching:
file names are unique ids, so a file's content never changes."""

from __future__ import annotations

import re

from aiohttp import web

from node.errors import NotFound
from node.typedefs import settings_key

routes = web.RouteTableDef()
# Only names the node itself generates: no separators, no dots beyond the suffixes.
_MEDIA_NAME = re.compile(r"^[0-9a-z]{26}(\.thumb)?\.(jpg|png)$")
_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


@routes.get("/media/{name}")
async def media(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not _MEDIA_NAME.fullmatch(name):
        raise NotFound("no such media file")
    path = request.app[settings_key].media_dir / name
    if not path.is_file():
        raise NotFound("no such media file")
    response = web.FileResponse(path)
    response.content_type = _TYPES[name.rsplit(".", 1)[-1]]
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
