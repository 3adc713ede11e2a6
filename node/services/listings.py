"""Listings: create, update, withdraw, delete and expire, each producing a
signed Proposal and the activity (Create, Update, Delete) that announces it.

Every change writes the listing, its search index entry and its activity in
one transaction, so the outbox never disagrees with the listing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from node.errors import Conflict, Forbidden, Gone, NotFound, ValidationFailed
from node.ids import new_id
from node.keys import load_ed25519_private
from node.services.actors import LocalActor, member_actor
from node.services.context import NodeContext
from node.services.listing_terms import (
    ProposalContext,
    build_proposal,
    check_terms,
    rounded_location,
)
from node.services.outbox import record_activity
from node.services.pool_terms import open_pool
from node.storage.base import Session
from node.storage.records import Listing, Member
from node.timeutil import later_text, now_text, parse_text, utc_now
from protocol import builders
from protocol.proofs import sign_object

DEFAULT_LIFETIME_DAYS = 90
#: Statuses a member may set; ``expired`` is the scheduler's alone.
MEMBER_STATUSES = frozenset({"available", "reserved", "completed", "withdrawn"})


def _normalise(fields: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in fields.items() if value is not None}
    fields.setdefault("description", "")
    fields.setdefault("categories", [])
    fields["categories"] = sorted(set(fields["categories"]))
    fields.setdefault("availability", [])
    fields.setdefault("images", [])
    fields.setdefault("quantity", 1)
    if "location" in fields:
        fields["location"] = rounded_location(fields["location"])
    check_terms(fields)
    return fields


async def _image_attachments(
    ctx: NodeContext, session: Session, member: Member, image_ids: list[str]
) -> list[dict[str, Any]]:
    attachments = []
    for index, image_id in enumerate(image_ids):
        image = await session.get_image(image_id)
        if image is None or image.member_id != member.id:
            raise ValidationFailed(
                f"unknown image {image_id!r}",
                errors=[{"pointer": f"/images/{index}", "reason": "no such image of yours"}],
            )
        attachments.append(
            builders.image(
                url=ctx.urls.media(image.filename),
                media_type=image.media_type,
                alt=image.description,
                width=image.width,
                height=image.height,
            )
        )
    return attachments


def _signed(local: LocalActor, document: dict[str, Any], created: str) -> dict[str, Any]:
    return sign_object(
        document,
        load_ed25519_private(local.ed25519_private_pem),
        local.ed25519_key_id,
        created=created,
    )


async def _document(
    ctx: NodeContext,
    session: Session,
    member: Member,
    fields: dict[str, Any],
    *,
    iri: str,
    published: str,
    updated: str | None,
    status: str,
) -> dict[str, Any]:
    local = member_actor(ctx, member)
    proposal = build_proposal(
        fields,
        ProposalContext(
            iri=iri,
            author_iri=local.iri,
            followers_iri=ctx.urls.followers(member.username),
            tag_base=f"{ctx.urls.base}/tags",
            published=published,
            updated=updated,
            status=status,
            images=await _image_attachments(ctx, session, member, fields["images"]),
        ),
    )
    return _signed(local, proposal, updated or published)


def _row_values(fields: dict[str, Any]) -> dict[str, Any]:
    price = fields.get("price") or {}
    location = fields.get("location") or {}
    return {
        "purpose": fields["purpose"],
        "mode": fields["mode"],
        "title": fields["title"],
        "content": fields.get("description", ""),
        "price_amount": float(price["amount"]) if price else None,
        "price_currency": price.get("currency"),
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "expires_at": fields.get("expires_at"),
        "categories": tuple(fields["categories"]),
        "image_ids": tuple(fields["images"]),
    }


async def _index(session: Session, listing: Listing) -> None:
    await session.index_listing(
        listing.seq, listing.title, listing.content, " ".join(listing.categories)
    )


def _check_future(expires_at: str) -> None:
    if parse_text(expires_at) <= utc_now():
        raise ValidationFailed(
            "expires_at must be in the future",
            errors=[{"pointer": "/expires_at", "reason": "in the past"}],
        )


async def create_listing(ctx: NodeContext, member: Member, fields: dict[str, Any]) -> Listing:
    fields = _normalise(fields)
    if "expires_at" in fields:
        _check_future(fields["expires_at"])
    fields.setdefault("expires_at", later_text(days=DEFAULT_LIFETIME_DAYS))
    listing_id = new_id()
    iri = ctx.urls.listing(listing_id)
    now = now_text()
    async with ctx.storage.transaction() as tx:
        document = await _document(
            ctx, tx, member, fields, iri=iri, published=now, updated=None, status="available"
        )
        listing = Listing(
            seq=0,
            id=listing_id,
            iri=iri,
            author_iri=ctx.urls.actor(member.username),
            member_id=member.id,
            origin=ctx.settings.public_host,
            status="available",
            published_at=now,
            updated_at=now,
            fields=fields,
            document=document,
            deleted_at=None,
            **_row_values(fields),
        )
        listing = replace(listing, seq=await tx.insert_listing(listing))
        if "pool" in fields:
            await open_pool(tx, listing)
        await _index(tx, listing)
        await record_activity(ctx, tx, member, "Create", document)
    return listing


async def get_listing(ctx: NodeContext, listing_id: str) -> Listing:
    async with ctx.storage.read() as session:
        listing = await session.get_listing(listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id!r}")
    if listing.deleted_at is not None:
        raise Gone(f"listing {listing_id!r} was deleted")
    return listing


async def _owned(session: Session, member: Member, listing_id: str) -> Listing:
    listing = await session.get_listing(listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id!r}")
    if listing.deleted_at is not None:
        raise Gone(f"listing {listing_id!r} was deleted")
    if listing.member_id != member.id:
        raise Forbidden("only the listing's author can change it")
    return listing


async def republish(
    ctx: NodeContext,
    session: Session,
    member: Member,
    listing: Listing,
    fields: dict[str, Any],
    status: str,
) -> Listing:
    """Re-sign ``listing`` with new terms or status and publish the Update."""
    now = now_text()
    document = await _document(
        ctx, session, member, fields, iri=listing.iri, published=listing.published_at,
        updated=now, status=status,
    )
    updated = replace(
        listing, status=status, updated_at=now, fields=fields, document=document,
        **_row_values(fields),
    )
    await session.update_listing(updated)
    await _index(session, updated)
    await record_activity(ctx, session, member, "Update", document)
    return updated


async def update_listing(
    ctx: NodeContext, member: Member, listing_id: str, changes: dict[str, Any]
) -> Listing:
    """Apply a partial update; ``null`` removes an optional term."""
    async with ctx.storage.transaction() as tx:
        listing = await _owned(tx, member, listing_id)
        status = changes.pop("status", None)
        if status is not None and status not in MEMBER_STATUSES:
            raise ValidationFailed(
                f"status {status!r} cannot be set by a member",
                errors=[{"pointer": "/status", "reason": "not settable"}],
            )
        if status is None:
            # Giving an expired listing a new expiry date puts it back on offer.
            renewed = listing.status == "expired" and changes.get("expires_at")
            status = "available" if renewed else listing.status
        if changes.get("expires_at") is not None:
            _check_future(changes["expires_at"])
        merged = {**listing.fields, **changes}
        fields = _normalise(merged)
        return await republish(ctx, tx, member, listing, fields, status)


async def withdraw_listing(ctx: NodeContext, member: Member, listing_id: str) -> Listing:
    async with ctx.storage.transaction() as tx:
        listing = await _owned(tx, member, listing_id)
        if listing.status == "withdrawn":
            raise Conflict("the listing is already withdrawn")
        return await republish(ctx, tx, member, listing, listing.fields, "withdrawn")


async def delete_listing(ctx: NodeContext, member: Member, listing_id: str) -> None:
    async with ctx.storage.transaction() as tx:
        listing = await _owned(tx, member, listing_id)
        now = now_text()
        tombstone = {
            "@context": listing.document.get("@context"),
            **builders.tombstone(id=listing.iri, former_type="Proposal", deleted=now),
        }
        await tx.update_listing(
            # Unlinking the images lets the member delete or reuse them.
            replace(listing, deleted_at=now, updated_at=now, document=tombstone, image_ids=())
        )
        await tx.unindex_listing(listing.seq)
        await record_activity(ctx, tx, member, "Delete", tombstone)


async def expire_due(ctx: NodeContext, now: str | None = None, limit: int = 100) -> int:
    """Mark listings whose expiry has passed as expired and publish the change."""
    now = now or now_text()
    async with ctx.storage.transaction() as tx:
        due = await tx.listings_due_to_expire(now, limit)
        for listing in due:
            assert listing.member_id is not None
            member = await tx.get_member(listing.member_id)
            assert member is not None
            await republish(ctx, tx, member, listing, listing.fields, "expired")
    return len(due)

