"""How public questions travel (protocol/SPEC.md §7.1).

The listing's home node is the authority on its questions. It relays each
question it accepts with an ``Announce`` by the listing's author, addressed to
the author's followers and to everyone who asked about the listing, and hides
one with ``Undo`` of that relay; the author's answers are ``Create{Note}`` to
the same audience. The community Group announces each of these to its own
followers too (FEP-1b12), so partner communities holding the listing see them.
Other nodes keep the questions the author relays for the listings they hold.
"""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.remote_listings import html_to_text
from node.ids import new_id
from node.services.actors import LocalActor, member_actor, node_actor
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from node.storage.records import Answer, Listing, Question
from node.timeutil import now_text
from protocol import builders
from protocol.builders.questions import question_relay, withdrawn_relay
from protocol.namespaces import AS_PUBLIC
from protocol.normalize import id_of, plain_text

#: Longest question or answer kept, in characters of plain text.
MAX_TEXT_CHARS = 2000


def note_text(note: dict[str, Any]) -> str:
    """A Note's content as plain text: remote HTML never reaches a page as markup."""
    return html_to_text(plain_text(note, "content") or "")[:MAX_TEXT_CHARS]


async def listing_author(ctx: NodeContext, session: Session, listing: Listing) -> LocalActor:
    assert listing.member_id is not None, "only a local listing's author speaks for it"
    member = await session.get_member(listing.member_id)
    assert member is not None
    return member_actor(ctx, member)


async def audience(ctx: NodeContext, session: Session, listing: Listing) -> list[str]:
    """Who hears about a local listing's questions: its author's followers and askers."""
    author = await listing_author(ctx, session, listing)
    askers = [a for a in await session.question_askers(listing.seq) if a != author.iri]
    return [f"{author.iri}/followers", *askers]


async def publish_relayed(
    ctx: NodeContext, session: Session, author: LocalActor, activity: dict[str, Any]
) -> None:
    """Publish the author's activity, and the community Group's Announce of it."""
    await publish_activity(ctx, session, author, activity)
    keys = await session.get_node_keys("community")
    assert keys is not None, "node keys are created at start-up"
    group = node_actor(ctx, keys)
    announce = builders.announce(
        id=f"{activity['id']}-announce", actor=group.iri, object=activity["id"],
        to=[AS_PUBLIC], cc=[f"{group.iri}/followers"], published=activity.get("published"),
    )
    announce["object"] = {key: value for key, value in activity.items() if key != "@context"}
    await publish_activity(ctx, session, group, announce)


async def relay(ctx: NodeContext, session: Session, listing: Listing, question: Question) -> None:
    """Spread a visible question on one of our listings to everyone who holds it."""
    author = await listing_author(ctx, session, listing)
    _, relay_iri = new_activity_iri(ctx)
    activity = question_relay(
        id=relay_iri, author=author.iri, question=question.document,
        to=await audience(ctx, session, listing), published=now_text(),
    )
    await session.set_question_relay(question.iri, relay_iri)
    await publish_relayed(ctx, session, author, activity)


async def withdraw_relay(
    ctx: NodeContext, session: Session, listing: Listing, question: Question
) -> None:
    """Undo the relay of a question on one of our listings: it disappears elsewhere."""
    if question.relay_iri is None:
        return
    author = await listing_author(ctx, session, listing)
    to = await audience(ctx, session, listing)
    # A hidden question's asker is no longer among the askers, but must hear of it.
    if question.author_iri not in to and question.author_iri != author.iri:
        to.append(question.author_iri)
    _, undo_iri = new_activity_iri(ctx)
    activity = withdrawn_relay(
        id=undo_iri, author=author.iri,
        relay={"id": question.relay_iri, "object": question.iri}, to=to, published=now_text(),
    )
    await publish_relayed(ctx, session, author, activity)


async def notify_member(
    ctx: NodeContext, session: Session, actor_iri: str, kind: str, summary: str
) -> None:
    """A notification for ``actor_iri`` if it is a member here."""
    prefix = ctx.urls.base + "/users/"
    if actor_iri.startswith(prefix):
        member = await session.get_member_by_username(actor_iri[len(prefix):])
        if member is not None:
            await session.notify(member.id, kind, summary, None, now_text())


async def accept_question(
    ctx: NodeContext, session: Session, listing: Listing, note: dict[str, Any]
) -> str:
    """A question (from anywhere) on one of our listings: keep it and relay it."""
    author = id_of(note.get("attributedTo")) or ""
    known = await session.get_question_by_iri(note["id"])
    question = await session.save_question(Question(
        id=new_id(), iri=note["id"], listing_seq=listing.seq, author_iri=author,
        content=note_text(note), published=note.get("published") or now_text(),
        document=note, hidden_at=None, hidden_by=None, relay_iri=None,
    ))
    if question.hidden_at is not None:
        return "applied: hidden question updated"
    if known is None:
        await notify_member(ctx, session, listing.author_iri, "question",
                            f"{author} asked about {listing.title}")
    # A changed question is relayed again, so copies elsewhere show the new text.
    if known is None or known.content != question.content:
        await relay(ctx, session, listing, question)
    return "applied: question"


async def apply_relay(
    ctx: NodeContext, relayer: str, relay_iri: str, note: dict[str, Any]
) -> str:
    """A listing's author relays a question on it (checked and fetched by the caller)."""
    listing_iri = id_of(note.get("inReplyTo")) or ""
    async with ctx.storage.transaction() as tx:
        listing = await tx.get_listing_by_iri(listing_iri)
        if listing is None or listing.deleted_at is not None:
            return "ignored: not a listing held here"
        if listing.member_id is not None:
            return "ignored: our own listing's questions are ours to relay"
        if listing.author_iri != relayer:
            raise Forbidden("only a listing's author relays questions on it")
        question = await tx.save_question(Question(
            id=new_id(), iri=note["id"], listing_seq=listing.seq,
            author_iri=id_of(note.get("attributedTo")) or "", content=note_text(note),
            published=note.get("published") or now_text(), document=note,
            hidden_at=None, hidden_by=None, relay_iri=None,
        ))
        await tx.set_question_relay(question.iri, relay_iri)
        if question.hidden_by == "author":
            # Relayed again: the author shows it again (a moderator's hide here stays).
            await tx.set_question_hidden(question.iri, None, None)
    return "applied: relayed question"


async def apply_withdrawal(ctx: NodeContext, actor: str, relay_iri: str) -> str:
    """The listing's author undid a relay: hide the question here too."""
    async with ctx.storage.transaction() as tx:
        question = await tx.get_question_by_relay(relay_iri)
        if question is None:
            return "ignored: unknown relay"
        listing = await tx.get_listing_by_seq(question.listing_seq)
        if listing is None or listing.author_iri != actor:
            raise Forbidden("only a listing's author withdraws its relays")
        if listing.member_id is not None:
            return "ignored: our own listing"
        if question.hidden_at is not None:
            return "ignored: already hidden"
        await tx.set_question_hidden(question.iri, now_text(), "author")
    return "applied: question hidden"


async def apply_answer(
    ctx: NodeContext, session: Session, question: Question, note: dict[str, Any]
) -> str:
    """The listing's author answered a question we hold."""
    author = id_of(note.get("attributedTo")) or ""
    listing = await session.get_listing_by_seq(question.listing_seq)
    if listing is None or listing.author_iri != author:
        return "ignored: only the listing's author answers its questions"
    if listing.member_id is not None:
        return "ignored: our own listing's answers are made here"
    known = await session.get_answer_by_iri(note["id"])
    if known is not None and known.question_iri != question.iri:
        raise Forbidden("an answer answers one question")
    await session.save_answer(Answer(
        question_iri=question.iri, iri=note["id"], author_iri=author, content=note_text(note),
        published=note.get("published") or now_text(), document=note,
    ))
    if known is None:
        await notify_member(ctx, session, question.author_iri, "answer",
                            f"{author} answered your question on {listing.title}")
    return "applied: answer"
