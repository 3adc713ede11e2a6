"""Replies (``Note`` with ``inReplyTo``) from anywhere in the fediverse: a reply
to one of our listings is a public question on it (SPEC §7.1), kept as plain
text and relayed by the listing's author; a reply to a question we hold, by
the listing's author, is its answer; a reply to an attestation is its subject's
answer to it."""

from __future__ import annotations

from typing import Any

from node.federation.policy import host_of
from node.federation.remote_listings import html_to_text
from node.services import question_relay
from node.services.context import NodeContext
from node.timeutil import now_text
from protocol.normalize import has_type, id_of, plain_text

MAX_REPLY_CHARS = 5000


async def store_reply(ctx: NodeContext, activity: dict[str, Any]) -> str:
    note = activity.get("object")
    if not isinstance(note, dict) or not has_type(note, "Note"):
        return "ignored: not a note"
    target = id_of(note.get("inReplyTo"))
    author = id_of(note.get("attributedTo"))
    note_iri = id_of(note)
    actor = id_of(activity.get("actor"))
    if not target or not note_iri or author != actor or host_of(note_iri) != host_of(actor or ""):
        return "ignored: not a reply by its author"
    async with ctx.storage.transaction() as tx:
        attestation = await tx.get_attestation(target)
        if attestation is not None:
            if attestation.subject_iri != author:
                return "ignored: only an attestation's subject answers it here"
            text = html_to_text(plain_text(note, "content") or "")[:MAX_REPLY_CHARS]
            await tx.save_attestation_reply(
                target, note_iri, author, text, note.get("published") or now_text()
            )
            return "applied: answer to an attestation"
        question = await tx.get_question_by_iri(target)
        if question is not None:
            return await question_relay.apply_answer(ctx, tx, question, note)
        listing = await tx.get_listing_by_iri(target)
        if listing is None or listing.deleted_at is not None:
            return "ignored: not a reply to a listing here"
        if listing.member_id is None:
            # Only the author's node accepts questions; it relays them to us.
            return "ignored: questions on another node's listing come relayed by its author"
        return await question_relay.accept_question(ctx, tx, listing, note)
