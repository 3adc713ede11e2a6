"""Public questions from the listing page: members ask, the listing's author
answers, and the author (or an administrator) hides a question or shows it
again. The handlers call :mod:`node.services.questions` as the API does; what
the page shows is :mod:`node.web.pages.listing_questions`."""

from __future__ import annotations

from aiohttp import web

from node.errors import NotFound, ValidationFailed
from node.services import listings, questions
from node.services.context import NodeContext
from node.services.question_relay import MAX_TEXT_CHARS
from node.storage.records import Listing
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.listing_cards import listing_page_url
from node.web.pages.listing_view import render_listing
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, require_member
from node.web.requests import limit_write

routes = web.RouteTableDef()


def _length_message() -> str:
    return _("Write 1 to %(n)s characters.", n=MAX_TEXT_CHARS)


async def _listing_of_question(ctx: NodeContext, question_id: str) -> Listing:
    async with ctx.storage.read() as session:
        question = await session.get_question(question_id)
        listing = (None if question is None
                   else await session.get_listing_by_seq(question.listing_seq))
    if listing is None or listing.deleted_at is not None:
        raise NotFound(_("There is no such question here."))
    return listing


def _questions_anchor(listing: Listing, question_id: str = "") -> str:
    return listing_page_url(listing) + (f"#question-{question_id}" if question_id
                                        else "#questions")


@routes.post("/listings/{listing_id}/questions")
@page
async def ask(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    ctx = request.app[context_key]
    listing = await listings.get_listing(ctx, request.match_info["listing_id"])
    content = text(await read_form(request), "content", max_length=MAX_TEXT_CHARS + 100)
    try:
        question = await questions.ask(ctx, principal.member, listing.id, content)
    except ValidationFailed:
        return await render_listing(request, listing, status=422, forms={
            "question_form": {"content": content, "error": _length_message()},
        })
    raise redirect(request, _questions_anchor(listing, question.id),
                   _("Your question is published."))


@routes.post("/questions/{question_id}/answer")
@page
async def answer(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    ctx = request.app[context_key]
    question_id = request.match_info["question_id"]
    listing = await _listing_of_question(ctx, question_id)
    content = text(await read_form(request), "content", max_length=MAX_TEXT_CHARS + 100)
    try:
        await questions.answer(ctx, principal.member, question_id, content)
    except ValidationFailed:
        return await render_listing(request, listing, status=422, forms={
            "question_form": {"answer_to": question_id, "answer": content,
                              "answer_error": _length_message()},
        })
    raise redirect(request, _questions_anchor(listing, question_id), _("Your answer is published."))


@routes.post("/questions/{question_id}/hide")
@routes.post("/questions/{question_id}/unhide")
@page
async def hide(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    ctx = request.app[context_key]
    question_id = request.match_info["question_id"]
    listing = await _listing_of_question(ctx, question_id)
    hiding = request.path.endswith("/hide")
    await questions.set_hidden(
        ctx, principal.member, question_id, hidden=hiding, moderator=principal.allows("admin")
    )
    if hiding:
        notice = _("The question is hidden: only the listing’s author and the administrators "
                   "see it now.")
    else:
        notice = _("The question is shown again.")
    raise redirect(request, _questions_anchor(listing, question_id), notice)
