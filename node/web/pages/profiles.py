"""Member profiles: who they are, what they list, what others attested about
them and the reputation this node computes from it, with the evidence.

``/@<username>`` is the page; ``/users/<username>`` answers a browser with the
same page and other servers with the actor document (see
:mod:`node.web.activitypub`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from node.errors import ValidationFailed
from node.services import accounts, reputation
from node.services.reputation import current_only
from node.storage.records import Follow, Member
from node.typedefs import context_key
from node.web.pages.listing_cards import listing_cards
from node.web.pages.profile_views import attestation_views, label_actor, reputation_view
from node.web.pages.sessions import current_principal
from node.web.pages.site import gettext as _
from node.web.pages.site import page, render
from node.web.pages.vouch_pages import vouch_section

routes = web.RouteTableDef()
#: Listings shown on a profile; the newest ones.
PROFILE_LISTINGS = 48
#: Most attestations the evidence page lists.
MAX_EVIDENCE = 200


def reputation_href(iri: str) -> str:
    return f"/reputation?actor={quote(iri, safe='')}"


def report_href(iri: str) -> str:
    return f"/report?kind=member&target={quote(iri, safe='')}"


async def viewer_follow(request: web.Request, target_iri: str) -> tuple[str | None, Follow | None]:
    """The viewer's actor IRI (None when logged out) and their follow of ``target_iri``."""
    principal = await current_principal(request)
    if principal is None:
        return None, None
    ctx = request.app[context_key]
    viewer = ctx.urls.actor(principal.member.username)
    if viewer == target_iri:
        return viewer, None
    async with ctx.storage.read() as session:
        return viewer, await session.get_follow(viewer, target_iri)


async def _viewer(request: web.Request) -> Member | None:
    principal = await current_principal(request)
    return principal.member if principal is not None else None


@routes.get("/@{username}")
@page
async def profile_page(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    username = request.match_info["username"]
    if username == ctx.settings.community_handle:
        raise web.HTTPSeeOther("/about")
    member = await accounts.get_member_by_username(ctx, username)
    iri = ctx.urls.actor(member.username)
    viewer, follow = await viewer_follow(request, iri)
    rep = await reputation.reputation_of(ctx, iri)
    async with ctx.storage.read() as session:
        listings = await session.list_member_listings(
            member.id, before_seq=None, limit=PROFILE_LISTINGS
        )
        # Attestations about accounts that moved here are this member's too.
        subjects = [iri, *await session.former_identities(iri)]
        received = await attestation_views(
            ctx, session, current_only(await session.attestations_about(subjects)),
            set(rep.evidence),
        )
        given = await attestation_views(
            ctx, session, current_only(await session.attestations_by(iri))
        )
        followers = await session.count_follows(followee_iri=iri)
        following = await session.count_follows(follower_iri=iri)
    context: dict[str, Any] = {
        "member": member,
        "iri": iri,
        "handle": f"@{member.username}@{ctx.settings.public_host}",
        "is_self": viewer == iri,
        "logged_in": viewer is not None,
        "follow": follow,
        "followers": followers,
        "following": following,
        "listings": await listing_cards(ctx, listings),
        "received": received,
        "given": given,
        "reputation": reputation_view(rep),
        "reputation_href": reputation_href(iri),
        "report_href": report_href(iri),
        "vouches": await vouch_section(ctx, iri, await _viewer(request)),
    }
    return await render(request, "profiles/profile.html", context, title=member.display_name)


@routes.get("/reputation")
@page
async def reputation_evidence(request: web.Request) -> web.Response:
    """The attestations a reputation counts, with the weight each issuer carried."""
    ctx = request.app[context_key]
    actor = request.query.get("actor", "").strip()
    if not actor.startswith(("https://", "http://")) or len(actor) > 2048:
        raise ValidationFailed(_("name the actor whose reputation to explain"),
                               errors=[{"pointer": "/actor", "reason": "required"}])
    rep = await reputation.reputation_of(ctx, actor)
    async with ctx.storage.read() as session:
        subject = await label_actor(ctx, session, actor)
        records = [
            record for record in
            [await session.get_attestation(iri) for iri in rep.evidence[:MAX_EVIDENCE]]
            if record is not None
        ]
        views = await attestation_views(ctx, session, records, set(rep.evidence))
        vouchers = [
            {"issuer": await label_actor(ctx, session, vouch.issuer), "date": vouch.issued_at[:10]}
            for vouch in getattr(rep, "vouches", ())
        ]
    weights = dict(rep.issuer_weights)
    by_iri = {record.iri: record for record in records}
    for view in views:
        issuer = by_iri[view["iri"]].issuer_iri
        view["weight"] = f"{weights.get(issuer, 0.0):.2f}"
        view["credential"] = view["iri"] if view["iri"].startswith(("https://", "http://")) else ""
    return await render(
        request, "profiles/reputation.html",
        {"subject": subject, "actor": actor, "reputation": reputation_view(rep),
         "evidence": views, "vouchers": vouchers},
        title=_("Reputation of %(name)s", name=subject.name),
    )
