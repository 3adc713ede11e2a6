"""People on other nodes: look one up by handle or IRI, see their profile as
this node knows it, and follow or unfollow anyone, here or elsewhere."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from node.errors import Conflict, NodeError
from node.federation import lookup
from node.federation.remote_actors import RemoteActors
from node.services import follows, reputation
from node.services.actors import local_actor_by_iri, member_actor
from node.services.reputation import current_only
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.profile_views import attestation_views, remote_summary, reputation_view
from node.web.pages.profiles import report_href, reputation_href, viewer_follow
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_member, safe_next
from node.web.pages.vouch_pages import vouch_section
from node.web.requests import limit_write

routes = web.RouteTableDef()
MAX_IRI = 2048


async def _lookup_page(
    request: web.Request, query: str, error: str = "", status: int = 200
) -> web.Response:
    return await render(
        request, "profiles/lookup.html", {"query": query, "errors": {"q": error} if error else {}},
        status=status, title=_("Find someone"),
    )


async def _local_page(request: web.Request, iri: str) -> str:
    """Where a local actor's page is: a member's profile, or About for the node's own."""
    local = await local_actor_by_iri(request.app[context_key], iri)
    if local is not None and local.member is not None:
        return f"/@{quote(local.member.username)}"
    return "/about"


@routes.get("/remote/actor")
@page
async def remote_actor(request: web.Request) -> web.Response:
    """``?iri=`` an actor IRI, or ``?q=`` a handle like ``@name@host`` (or an IRI).

    Looking someone up makes this node fetch from another server, so it takes
    a member; the answer comes from the cache when the actor is known."""
    principal = await require_member(request)
    ctx = request.app[context_key]
    query = (request.query.get("iri") or request.query.get("q") or "").strip()[:MAX_IRI]
    if not query:
        return await _lookup_page(request, "")
    try:
        iri = await lookup.resolve_actor_iri(ctx, query)
        if iri.startswith(ctx.urls.base + "/"):
            raise web.HTTPSeeOther(await _local_page(request, iri))
        actor = await RemoteActors(ctx).get(iri)
    except NodeError as exc:
        return await _lookup_page(request, query, exc.detail, exc.status)
    _, follow = await viewer_follow(request, actor.iri)
    rep = await reputation.reputation_of(ctx, actor.iri)
    async with ctx.storage.read() as session:
        received = await attestation_views(
            ctx, session, current_only(await session.attestations_about([actor.iri])),
            set(rep.evidence),
        )
    document = actor.document
    name = document.get("name")
    handle = f"@{actor.preferred_username}@{actor.host}" if actor.preferred_username else ""
    profile_url = document.get("url")
    context = {
        "iri": actor.iri,
        "name": name.strip() if isinstance(name, str) and name.strip() else handle or actor.iri,
        "handle": handle,
        "type": actor.type,
        "summary": remote_summary(document),
        # Only web links leave the site: a javascript: or data: URL is never a link here.
        "profile_url": profile_url if isinstance(profile_url, str)
        and profile_url.startswith(("https://", "http://")) else None,
        "follow": follow,
        "received": received,
        "reputation": reputation_view(rep),
        "reputation_href": reputation_href(actor.iri),
        "report_href": report_href(actor.iri),
        "here": f"/remote/actor?iri={quote(actor.iri, safe='')}",
        "vouches": await vouch_section(ctx, actor.iri, principal.member),
    }
    return await render(request, "profiles/remote.html", context, title=context["name"])


@routes.post("/follow")
@page
async def follow(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    ctx = request.app[context_key]
    form = await read_form(request)
    back = safe_next(text(form, "next", max_length=MAX_IRI + 40))
    target = await lookup.resolve_actor_iri(ctx, text(form, "target", max_length=MAX_IRI))
    try:
        record = await follows.follow(ctx, member_actor(ctx, principal.member), target)
    except Conflict:
        raise redirect(request, back, _("You already follow them or asked to.")) from None
    if record.state == "accepted":
        raise redirect(request, back, _("You now follow them."))
    raise redirect(request, back, _("Follow requested: it counts once they accept."))


@routes.post("/unfollow")
@page
async def unfollow(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    ctx = request.app[context_key]
    form = await read_form(request)
    back = safe_next(text(form, "next", max_length=MAX_IRI + 40))
    target = text(form, "target", max_length=MAX_IRI)
    await follows.unfollow(ctx, member_actor(ctx, principal.member), target)
    raise redirect(request, back, _("You no longer follow them."))
