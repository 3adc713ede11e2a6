"""Replies (``Note`` with ``inReplyTo`` one of our listings) from anywhere in
the fediverse reach the listing's author; Kula keeps them as plain text."""

from __future__ import annotations

from typing import Any

from node.federation.policy import host_of
from node.federation.remote_listings import html_to_text
from node.services.context import NodeContext
from node.storage.records import Reply
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
        listing = await tx.get_listing_by_iri(target)
        if listing is None or listing.member_id is None or listing.deleted_at is not None:
            return "ignored: not a reply to a listing here"
        text = html_to_text(plain_text(note, "content") or "")[:MAX_REPLY_CHARS]
        await tx.upsert_reply(
            Reply(
                iri=note_iri, listing_seq=listing.seq, author_iri=author, content=text,
                published=note.get("published") or now_text(), document=note, hidden_at=None,
            )
        )
    return "applied: reply stored"
