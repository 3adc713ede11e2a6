"""Client API: public questions on listings and the authors' answers."""

from __future__ import annotations

from aiohttp import web

from node.errors import ValidationFailed
from node.services import questions
from node.typedefs import context_key
from node.web.requests import optional_principal, read_json, require

routes = web.RouteTableDef()


@routes.post("/api/v1/listings/{listing_id}/questions")
async def ask(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-question-request")
    ctx = request.app[context_key]
    question = await questions.ask(
        ctx, principal.member, request.match_info["listing_id"], body["content"]
    )
    return web.json_response(await questions.question_view(ctx, question), status=201)


@routes.get("/api/v1/listings/{listing_id}/questions")
async def listing_questions(request: web.Request) -> web.Response:
    raw = request.query.get("include_hidden", "false")
    if raw not in ("true", "false"):
        raise ValidationFailed("include_hidden is true or false",
                               errors=[{"pointer": "/include_hidden", "reason": "enum"}])
    principal = await optional_principal(request) if raw == "true" else None
    listing, found = await questions.of_listing(
        request.app[context_key], request.match_info["listing_id"],
        principal.member if principal else None, include_hidden=raw == "true",
        moderator=principal is not None and principal.allows("admin"),
    )
    return web.json_response({"items": [
        questions.question_json(listing, question, answer) for question, answer in found
    ]})


@routes.post("/api/v1/questions/{question_id}/answer")
async def answer(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-question-request")
    ctx = request.app[context_key]
    question = await questions.answer(
        ctx, principal.member, request.match_info["question_id"], body["content"]
    )
    return web.json_response(await questions.question_view(ctx, question))


@routes.post("/api/v1/questions/{question_id}/hide")
@routes.post("/api/v1/questions/{question_id}/unhide")
async def hide(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    ctx = request.app[context_key]
    question = await questions.set_hidden(
        ctx, principal.member, request.match_info["question_id"],
        hidden=request.path.endswith("/hide"), moderator=principal.allows("admin"),
    )
    return web.json_response(await questions.question_view(ctx, question))
