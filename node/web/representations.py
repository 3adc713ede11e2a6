"""API bodies for stored records. One function per resource, used by every
handler that returns it, so the API and the OpenAPI document agree."""

from __future__ import annotations

from typing import Any

from node.services.context import NodeContext
from node.storage.records import Image, Invite, Listing, Member, SearchHit, Token


def member_json(ctx: NodeContext, member: Member, *, private: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": member.username,
        "display_name": member.display_name,
        "summary": member.summary,
        "iri": ctx.urls.actor(member.username),
        "handle": f"{member.username}@{ctx.settings.public_host}",
        "created_at": member.created_at,
        "manually_approves_followers": member.manually_approves_followers,
        "also_known_as": member.aliases,
        "moved_to": member.moved_to,
    }
    if private:
        body["is_admin"] = member.is_admin
        body["suspended"] = member.suspended_at is not None
    return body


def token_json(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked": token.revoked_at is not None,
    }


def invite_json(invite: Invite) -> dict[str, Any]:
    return {
        "id": invite.id,
        "note": invite.note,
        "uses": invite.uses,
        "max_uses": invite.max_uses,
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
        "revoked": invite.revoked_at is not None,
    }


def image_json(ctx: NodeContext, image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "url": ctx.urls.media(image.filename),
        "thumbnail_url": ctx.urls.media(image.thumbnail_filename),
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "description": image.description,
        "created_at": image.created_at,
    }


def listing_json(ctx: NodeContext, listing: Listing) -> dict[str, Any]:
    fields = listing.fields
    images = [
        {"id": image_id, "url": attachment.get("url")}
        for image_id, attachment in zip(
            fields.get("images", []), listing.document.get("attachment", []), strict=False
        )
    ]
    return {
        "id": listing.id,
        "iri": listing.iri,
        "url": listing.iri,
        "author": listing.author_iri,
        "origin": listing.origin,
        "local": listing.member_id is not None,
        "status": listing.status,
        "purpose": listing.purpose,
        "mode": listing.mode,
        "title": listing.title,
        "description": fields.get("description", ""),
        "categories": list(listing.categories),
        "quantity": fields.get("quantity", 1),
        "price": fields.get("price"),
        "wanted": fields.get("wanted"),
        "deposit": fields.get("deposit"),
        "period": fields.get("period"),
        "availability": fields.get("availability", []),
        "booked": [
            {"start": w["start"], "end": w["end"]} for w in fields.get("booked", [])
        ],
        "location": fields.get("location"),
        "images": images,
        "expires_at": listing.expires_at,
        "published": listing.published_at,
        "updated": listing.updated_at,
    }


def hit_json(ctx: NodeContext, hit: SearchHit) -> dict[str, Any]:
    body = listing_json(ctx, hit.listing)
    body["distance_km"] = None if hit.distance_km is None else round(hit.distance_km, 3)
    return body
