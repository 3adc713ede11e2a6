"""What a page shows of listings and their authors: cards with a thumbnail,
terms, origin community and the author's reputation.

Built for a whole page at once: one reputation computation and one lookup per
distinct author and community, however many listings the page holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from node.services import reputation
from node.services.community import community_profile
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Listing
from node.web.pages.listing_pool import pool_summary
from node.web.pages.listing_text import mode_labels, purpose_labels, status_labels, terms_summary
from protocol.reputation import Reputation

_NAME_LIMIT = 100


@dataclass(frozen=True)
class AuthorView:
    iri: str
    name: str
    handle: str
    #: The member's profile page here, or the remote actor's own page.
    profile_url: str
    #: The reputation as this node computes it, with its evidence.
    evidence_url: str
    reputation: Reputation
    local: bool


@dataclass(frozen=True)
class ListingCard:
    url: str
    title: str
    thumbnail: str | None
    thumbnail_alt: str
    terms: str
    purpose: str
    mode: str
    status: str
    available: bool
    origin_host: str
    origin_name: str
    local: bool
    author: AuthorView
    distance_km: float | None
    #: A pool's progress in one line (issue #9), None for other listings.
    pool: str | None = None


def listing_page_url(listing: Listing) -> str:
    """Local listings live at their IRI; remote ones are shown from this node's copy."""
    if listing.member_id is not None:
        return f"/listings/{quote(listing.id)}"
    return "/remote/listing?" + urlencode({"iri": listing.iri})


def _text(value: Any, fallback: str) -> str:
    return value[:_NAME_LIMIT] if isinstance(value, str) and value.strip() else fallback


async def _author_names(
    ctx: NodeContext, session: Session, listings: list[Listing]
) -> dict[str, tuple[str, str, str, bool]]:
    """author IRI -> (name, handle, profile URL, local)."""
    names: dict[str, tuple[str, str, str, bool]] = {}
    members: dict[int, str] = {}
    for listing in listings:
        iri = listing.author_iri
        if iri in names:
            continue
        if listing.member_id is not None:
            member = await session.get_member(listing.member_id)
            if member is None:
                continue
            members[listing.member_id] = iri
            handle = f"{member.username}@{ctx.settings.public_host}"
            names[iri] = (_text(member.display_name, member.username), handle,
                          f"/@{quote(member.username)}", True)
            continue
        actor = await session.get_remote_actor(iri)
        if actor is None:
            names[iri] = (iri, iri, iri, False)
            continue
        handle = f"{actor.preferred_username}@{actor.host}" if actor.preferred_username else iri
        page = actor.document.get("url") if isinstance(actor.document.get("url"), str) else iri
        if not page.startswith(("https://", "http://")):
            page = iri
        names[iri] = (_text(actor.document.get("name"), handle), handle, page, False)
    return names


async def authors_of(ctx: NodeContext, listings: list[Listing]) -> dict[str, AuthorView]:
    async with ctx.storage.read() as session:
        names = await _author_names(ctx, session, listings)
    scores = await reputation.reputations_of(ctx, names.keys())
    return {
        iri: AuthorView(
            iri=iri, name=name, handle=handle, profile_url=profile,
            evidence_url=profile if local else "/api/v1/reputation?" + urlencode({"actor": iri}),
            reputation=scores[iri], local=local,
        )
        for iri, (name, handle, profile, local) in names.items()
    }


async def origin_names(ctx: NodeContext, hosts: set[str]) -> dict[str, str]:
    """host -> the community's name: ours, a partner's Group name, else the host."""
    found = {host: host for host in hosts}
    found[ctx.settings.public_host] = (await community_profile(ctx)).name
    remote = hosts - {ctx.settings.public_host}
    if not remote:
        return found
    async with ctx.storage.read() as session:
        for peer in await session.list_peers():
            if peer.host in remote:
                group = await session.get_remote_actor(peer.group_iri)
                if group is not None:
                    found[peer.host] = _text(group.document.get("name"), peer.host)
    return found


async def _thumbnail(
    ctx: NodeContext, session: Session, listing: Listing
) -> tuple[str | None, str]:
    if listing.member_id is not None:
        if not listing.image_ids:
            return None, ""
        image = await session.get_image(listing.image_ids[0])
        if image is None:
            return None, ""
        return ctx.urls.media(image.thumbnail_filename), image.description
    for attachment in images_of(listing):
        return attachment
    return None, ""


def images_of(listing: Listing) -> list[tuple[str, str]]:
    """(url, alt text) of a listing's images; remote ones only over https."""
    found = []
    for attachment in listing.document.get("attachment") or []:
        if not isinstance(attachment, dict) or attachment.get("type") != "Image":
            continue
        url = attachment.get("url")
        url = url.get("href") if isinstance(url, dict) else url
        local = listing.member_id is not None
        if isinstance(url, str) and (url.startswith("https://") or local):
            alt = attachment.get("name")
            found.append((url, alt[:1500] if isinstance(alt, str) else ""))
    return found


async def listing_cards(
    ctx: NodeContext, listings: list[Listing], distances: dict[int, float | None] | None = None
) -> list[ListingCard]:
    distances = distances or {}
    authors = await authors_of(ctx, listings)
    origins = await origin_names(ctx, {listing.origin for listing in listings})
    modes, purposes, statuses = mode_labels(), purpose_labels(), status_labels()
    cards = []
    async with ctx.storage.read() as session:
        for listing in listings:
            if listing.author_iri not in authors:
                continue
            thumbnail, alt = await _thumbnail(ctx, session, listing)
            cards.append(ListingCard(
                url=listing_page_url(listing), title=listing.title, thumbnail=thumbnail,
                thumbnail_alt=alt, terms=terms_summary(listing.fields),
                purpose=purposes.get(listing.purpose, listing.purpose),
                mode=modes.get(listing.mode, listing.mode),
                status=statuses.get(listing.status, listing.status),
                available=listing.status == "available",
                origin_host=listing.origin, origin_name=origins.get(listing.origin, listing.origin),
                local=listing.member_id is not None, author=authors[listing.author_iri],
                distance_km=distances.get(listing.seq), pool=pool_summary(listing),
            ))
    return cards
