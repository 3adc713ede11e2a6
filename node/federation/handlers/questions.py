"""Questions relayed by a listing's author (SPEC §7.1): ``Announce`` of a
question ``Note``, ``Undo`` of that ``Announce``, and the same wrapped once
more in a community Group's ``Announce`` (FEP-1b12).

``Announce``, ``Undo`` and ``Delete`` reach this module first; anything that
is not about a question goes on to the general handlers.
"""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.fetch import FetchError, fetch_json
from node.federation.handlers import announce, replies, undo, vouch
from node.federation.policy import host_of
from node.services import question_relay
from node.services.actors import instance_actor
from node.services.context import NodeContext
from node.workers.jobs import RetryLater
from protocol.normalize import has_type, id_of
from protocol.validation import validate


async def _note_from_origin(ctx: NodeContext, iri: str) -> dict[str, Any] | None:
    """The question as its own origin serves it; None when it is gone there."""
    try:
        return await fetch_json(ctx, iri, signer=await instance_actor(ctx))
    except FetchError as exc:
        if exc.status in (404, 410):
            return None
        if exc.transient:
            raise RetryLater(f"cannot fetch {iri}: {exc.detail}") from exc
        raise


async def _relayed(ctx: NodeContext, relayer: str, relay_iri: str, note: dict[str, Any]) -> str:
    """Check the relayed question, from its own origin when the relayer is elsewhere."""
    iri = id_of(note) or ""
    if host_of(iri) != host_of(relayer):
        # The relayer cannot speak for another server's object: ask its origin.
        fetched = await _note_from_origin(ctx, iri)
        if fetched is None:
            return "ignored: the question is gone at its origin"
        if id_of(fetched) != iri:
            raise Forbidden("the fetched question does not carry the relayed id")
        note = fetched
    validate(note, "note")
    author = id_of(note.get("attributedTo")) or ""
    if host_of(author) != host_of(iri):
        raise Forbidden("a question's author lives on the question's origin")
    return await question_relay.apply_relay(ctx, relayer, relay_iri, note)


def _relayed_note(activity: dict[str, Any]) -> dict[str, Any] | None:
    obj = activity.get("object")
    return obj if has_type(activity, "Announce") and has_type(obj, "Note") else None


async def _by_community(ctx: NodeContext, group: str, inner: dict[str, Any]) -> str | None:
    """A Group announces its member's relay, withdrawal or answer; None if it is none."""
    inner_actor = id_of(inner.get("actor")) or ""
    obj = inner.get("object")
    about_questions = (
        _relayed_note(inner) is not None
        or (has_type(inner, "Undo") and has_type(obj, "Announce"))
        or ((has_type(inner, "Create") or has_type(inner, "Update")) and has_type(obj, "Note"))
    )
    if not about_questions:
        return None
    # Same origin, same authority: the Group speaks for its own members only.
    if host_of(inner_actor) != host_of(group) or host_of(id_of(inner) or "") != host_of(group):
        raise Forbidden("a community relays activities of its own origin only")
    if (note := _relayed_note(inner)) is not None:
        return await _relayed(ctx, inner_actor, inner["id"], note)
    if has_type(inner, "Undo"):
        return await question_relay.apply_withdrawal(ctx, inner_actor, id_of(obj) or "")
    return await replies.store_reply(ctx, inner)


async def handle_announce(ctx: NodeContext, activity: dict[str, Any]) -> str:
    actor = id_of(activity.get("actor")) or ""
    if (note := _relayed_note(activity)) is not None:
        return await _relayed(ctx, actor, activity["id"], note)
    inner = activity.get("object")
    if isinstance(inner, dict) and (outcome := await _by_community(ctx, actor, inner)):
        return outcome
    return await announce.handle_announce(ctx, activity)


async def handle_undo(ctx: NodeContext, activity: dict[str, Any]) -> str:
    undone = id_of(activity.get("object"))
    if undone:
        async with ctx.storage.read() as session:
            question = await session.get_question_by_relay(undone)
        if question is not None:
            actor = id_of(activity.get("actor")) or ""
            return await question_relay.apply_withdrawal(ctx, actor, undone)
    return await undo.handle_undo(ctx, activity)


async def handle_delete(ctx: NodeContext, activity: dict[str, Any]) -> str:
    """Its asker deletes a question: on the listing's node the relay is withdrawn first."""
    target = id_of(activity.get("object"))
    actor = id_of(activity.get("actor")) or ""
    if target:
        async with ctx.storage.transaction() as tx:
            question = await tx.get_question_by_iri(target)
            if question is not None and question.author_iri == actor:
                listing = await tx.get_listing_by_seq(question.listing_seq)
                ours = listing is not None and listing.member_id is not None
                if listing is not None and ours and question.hidden_at is None:
                    await question_relay.withdraw_relay(ctx, tx, listing, question)
                await tx.delete_reply(target, actor)
                return "applied: question deleted"
    return await vouch.handle_delete(ctx, activity)
