"""Client API: image uploads (multipart ``file`` field, or a raw image body)."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from node.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from node.services import images
from node.typedefs import context_key, settings_key
from node.web.representations import image_json
from node.web.requests import read_body, require

routes = web.RouteTableDef()
_RAW_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    chunks = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the image is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _multipart(request: web.Request, limit: int) -> tuple[bytes, str]:
    # aiohttp reports a broken body (no boundary, bad part headers) with its parser's
    # exceptions, which are not HTTP responses: they are the client's fault, so 400.
    try:
        return await _read_multipart(request, limit)
    except (ValueError, HttpProcessingError):
        raise BadRequest("the multipart body is malformed") from None


async def _read_multipart(request: web.Request, limit: int) -> tuple[bytes, str]:
    reader = await request.multipart()
    data: bytes | None = None
    description = ""
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadRequest("nested multipart bodies are not accepted")
        if part.name == "file":
            data = await _read_part(part, limit)
        elif part.name == "description":
            description = (await _read_part(part, 4096)).decode("utf-8", errors="replace")
    if data is None:
        raise BadRequest("the multipart body needs a 'file' part")
    return data, description


@routes.post("/api/v1/images")
async def upload_image(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    limit = request.app[settings_key].max_image_bytes
    if request.content_type == "multipart/form-data":
        data, description = await _multipart(request, limit)
    elif request.content_type in _RAW_TYPES:
        data = await read_body(request, limit)
        description = request.query.get("description", "")
    else:
        raise UnsupportedMediaType("upload multipart/form-data or an image/* body")
    if not data:
        raise BadRequest("the image is empty")
    ctx = request.app[context_key]
    image = await images.store_image(ctx, principal.member, data, description)
    return web.json_response(image_json(ctx, image), status=201)


@routes.get("/api/v1/images/{image_id}")
async def show_image(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    ctx = request.app[context_key]
    image = await images.get_own_image(ctx, principal.member, request.match_info["image_id"])
    return web.json_response(image_json(ctx, image))


@routes.delete("/api/v1/images/{image_id}")
async def delete_image(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    await images.delete_image(
        request.app[context_key], principal.member, request.match_info["image_id"]
    )
    return web.Response(status=204)
