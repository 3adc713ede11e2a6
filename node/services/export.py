"""A member's own data as one JSON document, to keep or to take elsewhere.

The export holds what the member wrote and what concerns them: their
profile, listings (with the signed Proposal other nodes received), exchanges
with their history and messages, the attestations they gave and received
(the signed credentials, which anyone can verify without this node), the
vouches they gave and received (signed credentials too), their follows, and
their notifications. Secrets (password hash, private keys,
token hashes) never leave the node.
"""

from __future__ import annotations

from typing import Any

from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Attestation, Exchange, Listing, Member, VouchRecord
from node.timeutil import now_text

EXPORT_FORMAT = "kula-member-export"
EXPORT_VERSION = 1
#: Upper bound per collection, so one export cannot grow without limit.
MAX_ITEMS = 10_000


def export_filename(member: Member, exported_at: str) -> str:
    """``kula-<username>-<YYYY-MM-DD>.json``: safe in a Content-Disposition header."""
    return f"kula-{member.username}-{exported_at[:10]}.json"


def _profile(ctx: NodeContext, member: Member) -> dict[str, Any]:
    return {
        "username": member.username,
        "display_name": member.display_name,
        "summary": member.summary,
        "iri": ctx.urls.actor(member.username),
        "handle": f"{member.username}@{ctx.settings.public_host}",
        "created_at": member.created_at,
        "manually_approves_followers": member.manually_approves_followers,
        "also_known_as": member.aliases,
        "moved_to": member.moved_to,
        "is_admin": member.is_admin,
    }


def _listing(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "iri": listing.iri,
        "status": listing.status,
        "purpose": listing.purpose,
        "mode": listing.mode,
        "title": listing.title,
        "categories": list(listing.categories),
        "terms": listing.fields,
        "published": listing.published_at,
        "updated": listing.updated_at,
        "expires_at": listing.expires_at,
        "proposal": listing.document,
    }


async def _exchange(session: Session, exchange: Exchange) -> dict[str, Any]:
    listing = (
        await session.get_listing_by_seq(exchange.listing_seq)
        if exchange.listing_seq is not None else None
    )
    events = await session.list_exchange_events(exchange.id)
    messages = await session.list_messages(exchange.id)
    return {
        "id": exchange.id,
        "listing": exchange.proposal_iri,
        "listing_title": listing.title if listing else None,
        "mode": exchange.mode,
        "proposer": exchange.proposer_iri,
        "responder": exchange.responder_iri,
        "state": exchange.state,
        "quantity": exchange.quantity,
        "start": exchange.starts_at,
        "end": exchange.ends_at,
        "reason": exchange.reason,
        "agreement": exchange.agreement,
        "created_at": exchange.created_at,
        "updated_at": exchange.updated_at,
        "events": [
            {"type": e.type, "actor": e.actor_iri, "from": e.from_state, "to": e.to_state,
             "content": e.content, "at": e.created_at}
            for e in events
        ],
        "messages": [
            {"iri": m.iri, "author": m.author_iri, "content": m.content,
             "published": m.published}
            for m in messages
        ],
    }


async def _attestation(session: Session, record: Attestation) -> dict[str, Any]:
    reply = await session.attestation_reply(record.iri)
    return {
        "iri": record.iri,
        "issuer": record.issuer_iri,
        "subject": record.subject_iri,
        "agreement": record.agreement_iri,
        "issuer_role": record.issuer_role,
        "subject_role": record.subject_role,
        "rating": record.rating,
        "comment": record.comment,
        "valid_from": record.valid_from,
        "supersedes": record.supersedes,
        "withdrawn_at": record.withdrawn_at,
        "reply": None if reply is None else {"content": reply[0], "published": reply[1]},
        "credential": record.document,
    }


def _vouch(record: VouchRecord) -> dict[str, Any]:
    return {
        "iri": record.iri,
        "issuer": record.issuer_iri,
        "subject": record.subject_iri,
        "valid_from": record.valid_from,
        "credential": record.document,
    }


async def export_member(ctx: NodeContext, member: Member) -> dict[str, Any]:
    """Everything the node holds about ``member`` that is theirs to take."""
    iri = ctx.urls.actor(member.username)
    async with ctx.storage.read() as session:
        # Attestations about accounts that moved here are part of this member's record.
        subjects = [iri, *await session.former_identities(iri)]
        listings = await session.list_member_listings(
            member.id, before_seq=None, limit=MAX_ITEMS
        )
        exchanges = await session.list_exchanges_of(iri, limit=MAX_ITEMS)
        received = (await session.attestations_about(subjects))[:MAX_ITEMS]
        given = (await session.attestations_by(iri))[:MAX_ITEMS]
        vouches_received = (await session.vouches_about(iri))[:MAX_ITEMS]
        vouches_given = (await session.vouches_by(iri))[:MAX_ITEMS]
        following = await session.list_follows(follower_iri=iri, state=None, limit=MAX_ITEMS)
        followers = await session.list_follows(followee_iri=iri, state=None, limit=MAX_ITEMS)
        notifications = await session.list_notifications(
            member.id, unread_only=False, limit=MAX_ITEMS
        )
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": now_text(),
            "node": ctx.urls.base,
            "profile": _profile(ctx, member),
            "listings": [_listing(listing) for listing in listings],
            "exchanges": [await _exchange(session, exchange) for exchange in exchanges],
            "attestations": {
                "received": [await _attestation(session, r) for r in received],
                "given": [await _attestation(session, r) for r in given],
            },
            # Current (unrevoked) vouches, each the signed VouchCredential.
            "vouches": {
                "received": [_vouch(record) for record in vouches_received],
                "given": [_vouch(record) for record in vouches_given],
            },
            "follows": {
                "following": [
                    {"actor": f.followee_iri, "state": f.state, "since": f.created_at}
                    for f in following
                ],
                "followers": [
                    {"actor": f.follower_iri, "state": f.state, "since": f.created_at}
                    for f in followers
                ],
            },
            "notifications": [
                {"id": n.id, "kind": n.kind, "exchange": n.exchange_id, "summary": n.summary,
                 "created_at": n.created_at, "read": n.read_at is not None}
                for n in notifications
            ],
        }
