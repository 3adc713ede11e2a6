"""ActivityPub documents of vouches and questions: each vouch, question and
answer is served at its IRI, and a listing's ``replies`` collection lists the
questions its author shows (SPEC §7.1, §11.4)."""

from __future__ import annotations

from aiohttp import web

from node.errors import Gone, NotFound
from node.typedefs import context_key
from node.web.activitypub import activity_response
from node.web.signed_fetch import check_fetch
from protocol import builders

routes = web.RouteTableDef()


@routes.get("/vouches/{vouch_id}")
async def vouch_object(request: web.Request) -> web.Response:
    await check_fetch(request)
    ctx = request.app[context_key]
    iri = f"{ctx.urls.base}/vouches/{request.match_info['vouch_id']}"
    async with ctx.storage.read() as session:
        record = await session.get_vouch(iri)
    if record is None:
        raise NotFound("no such vouch")
    if record.revoked_at is not None:
        raise Gone("its issuer revoked this vouch")
    return activity_response(record.document)


@routes.get("/questions/{question_id}")
async def question_object(request: web.Request) -> web.Response:
    """A question asked by a member of this node, unless a moderator here hid it."""
    await check_fetch(request)
    ctx = request.app[context_key]
    iri = f"{ctx.urls.base}/questions/{request.match_info['question_id']}"
    async with ctx.storage.read() as session:
        question = await session.get_question_by_iri(iri)
    if question is None or question.hidden_by == "moderator":
        raise NotFound("no such question")
    return activity_response(question.document)


@routes.get("/answers/{answer_id}")
async def answer_object(request: web.Request) -> web.Response:
    await check_fetch(request)
    ctx = request.app[context_key]
    iri = f"{ctx.urls.base}/answers/{request.match_info['answer_id']}"
    async with ctx.storage.read() as session:
        answer = await session.get_answer_by_iri(iri)
        question = None if answer is None else await session.get_question_by_iri(
            answer.question_iri
        )
    if answer is None or question is None or question.hidden_at is not None:
        raise NotFound("no such answer")
    return activity_response(answer.document)


@routes.get("/listings/{listing_id}/replies")
async def listing_replies(request: web.Request) -> web.Response:
    """The questions on one of our listings that its author shows."""
    await check_fetch(request)
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        listing = await session.get_listing(request.match_info["listing_id"])
        if listing is None or listing.member_id is None:
            raise NotFound("no such listing on this node")
        if listing.deleted_at is not None:
            raise Gone("the listing was deleted")
        shown = await session.list_questions(listing.seq, include_hidden=False)
    return activity_response(builders.ordered_collection(
        id=f"{listing.iri}/replies", total_items=len(shown),
        ordered_items=[question.iri for question in shown],
    ))
