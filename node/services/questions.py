"""Public questions on listings: members ask, the listing's author answers,
and the author (or a moderator) hides what should not be shown.

A question on one of this node's listings is kept and relayed at once
(:mod:`node.services.question_relay`); a question on another node's listing
is kept here too and delivered to the listing's author as ``Create{Note}``,
whose node relays it to everyone else holding the listing.
"""

from __future__ import annotations

from typing import Any

from node.errors import Conflict, Forbidden, NotFound, ValidationFailed
from node.ids import new_id
from node.services import listings
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.services.listing_terms import text_to_html
from node.services.outbox import new_activity_iri, publish_activity
from node.services.question_relay import (
    MAX_TEXT_CHARS,
    audience,
    listing_author,
    notify_member,
    publish_relayed,
    relay,
    withdraw_relay,
)
from node.storage.base import Session
from node.storage.records import Answer, Listing, Member, Question
from node.timeutil import now_text
from protocol import builders
from protocol.builders.questions import answer as answer_note
from protocol.builders.questions import question as question_note


def checked_text(text: Any) -> str:
    """Members write plain text, 1 to 2000 characters."""
    if not isinstance(text, str) or not 0 < len(text.strip()) <= MAX_TEXT_CHARS:
        raise ValidationFailed(f"write 1 to {MAX_TEXT_CHARS} characters",
                               errors=[{"pointer": "/content", "reason": "length"}])
    return text.strip()


async def ask(ctx: NodeContext, member: Member, listing_id: str, text: str) -> Question:
    """``member`` asks about a listing held here (ours or another node's)."""
    text = checked_text(text)
    listing = await listings.get_listing(ctx, listing_id)
    asker = member_actor(ctx, member)
    if listing.author_iri == asker.iri:
        raise Conflict("you cannot ask about your own listing")
    question_id = new_id()
    now = now_text()
    note = question_note(
        id=f"{ctx.urls.base}/questions/{question_id}", author=asker.iri, listing=listing.iri,
        listing_author=listing.author_iri, content=text_to_html(text), published=now,
    )
    async with ctx.storage.transaction() as tx:
        question = await tx.save_question(Question(
            id=question_id, iri=note["id"], listing_seq=listing.seq, author_iri=asker.iri,
            content=text, published=now, document=note, hidden_at=None, hidden_by=None,
            relay_iri=None,
        ))
        if listing.member_id is not None:
            await notify_member(ctx, tx, listing.author_iri, "question",
                                f"{asker.iri} asked about {listing.title}")
            await relay(ctx, tx, listing, question)
        else:
            _, create_iri = new_activity_iri(ctx)
            await publish_activity(ctx, tx, asker, builders.create(
                id=create_iri, actor=asker.iri, object=note, to=note["to"], cc=note["cc"],
                published=now,
            ))
    return question


async def _question_and_listing(session: Session, question_id: str) -> tuple[Question, Listing]:
    question = await session.get_question(question_id)
    listing = None if question is None else await session.get_listing_by_seq(question.listing_seq)
    if question is None or listing is None or listing.deleted_at is not None:
        raise NotFound(f"no question {question_id!r}")
    return question, listing


async def answer(ctx: NodeContext, member: Member, question_id: str, text: str) -> Question:
    """The listing's author answers (again: the new answer replaces the old one)."""
    text = checked_text(text)
    async with ctx.storage.transaction() as tx:
        question, listing = await _question_and_listing(tx, question_id)
        if listing.member_id != member.id:
            raise Forbidden("only the listing's author answers its questions")
        if question.hidden_at is not None:
            raise Conflict("the question is hidden; show it again to answer it")
        author = await listing_author(ctx, tx, listing)
        known = (await tx.answers_to([question.iri])).get(question.iri)
        now = now_text()
        note = answer_note(
            id=known.iri if known else f"{ctx.urls.base}/answers/{new_id()}",
            author=author.iri, question=question.iri, asker=question.author_iri,
            content=text_to_html(text), audience=await audience(ctx, tx, listing),
            published=known.published if known else now,
        )
        if known is not None:
            note["updated"] = now
        await tx.save_answer(Answer(
            question_iri=question.iri, iri=note["id"], author_iri=author.iri, content=text,
            published=note["published"], document=note,
        ))
        if known is None:
            await notify_member(ctx, tx, question.author_iri, "answer",
                                f"{author.iri} answered your question on {listing.title}")
        _, activity_iri = new_activity_iri(ctx)
        build = builders.update if known else builders.create
        await publish_relayed(ctx, tx, author, build(
            id=activity_iri, actor=author.iri, object=note, to=note["to"], cc=note["cc"],
            published=now,
        ))
    return question


async def set_hidden(
    ctx: NodeContext, member: Member, question_id: str, hidden: bool, *, moderator: bool
) -> Question:
    """Hide a question (or show it again): the listing's author, or a moderator
    (``moderator``: the caller acts with an administrator's authority).

    On the listing's own node hiding also withdraws the relay, so the question
    disappears from every node; elsewhere a moderator's hide is local.
    A question a moderator hid is shown again by a moderator only.
    """
    moderator = moderator and member.is_admin
    async with ctx.storage.transaction() as tx:
        question, listing = await _question_and_listing(tx, question_id)
        is_author = listing.member_id == member.id
        if not is_author and not moderator:
            raise Forbidden("only the listing's author or a moderator hides its questions")
        if hidden == (question.hidden_at is not None):
            raise Conflict("the question is already " + ("hidden" if hidden else "shown"))
        if not hidden and question.hidden_by == "moderator" and not moderator:
            raise Forbidden("a moderator hid this question")
        if hidden:
            await tx.set_question_hidden(question.iri, now_text(),
                                         "author" if is_author else "moderator")
            if listing.member_id is not None:
                await withdraw_relay(ctx, tx, listing, question)
        else:
            await tx.set_question_hidden(question.iri, None, None)
            if listing.member_id is not None:
                await relay(ctx, tx, listing, question)
        updated = await tx.get_question(question_id)
    assert updated is not None
    return updated


async def of_listing(
    ctx: NodeContext, listing_id: str, viewer: Member | None, *, include_hidden: bool,
    moderator: bool = False,
) -> tuple[Listing, list[tuple[Question, Answer | None]]]:
    """A listing's questions with their answers; hidden ones for its author and moderators."""
    listing = await listings.get_listing(ctx, listing_id)
    if include_hidden and (
        viewer is None or not ((moderator and viewer.is_admin) or listing.member_id == viewer.id)
    ):
        raise Forbidden("only the listing's author or a moderator sees hidden questions")
    async with ctx.storage.read() as session:
        found = await session.list_questions(listing.seq, include_hidden=include_hidden)
        answers = await session.answers_to([question.iri for question in found])
    return listing, [(question, answers.get(question.iri)) for question in found]


def question_json(
    listing: Listing, question: Question, answer: Answer | None
) -> dict[str, Any]:
    return {
        "id": question.id,
        "iri": question.iri,
        "listing": listing.id,
        "listing_iri": listing.iri,
        "author": question.author_iri,
        "content": question.content,
        "published": question.published,
        "hidden": question.hidden_at is not None,
        "answer": None if answer is None else {
            "iri": answer.iri,
            "author": answer.author_iri,
            "content": answer.content,
            "published": answer.published,
        },
    }


async def question_view(ctx: NodeContext, question: Question) -> dict[str, Any]:
    """A question as the API shows it, with its listing and answer."""
    async with ctx.storage.read() as session:
        listing = await session.get_listing_by_seq(question.listing_seq)
        found = (await session.answers_to([question.iri])).get(question.iri)
    assert listing is not None
    return question_json(listing, question, found)
