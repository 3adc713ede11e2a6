"""Operator pages: members, found by name, suspended and reinstated with a reason."""

from __future__ import annotations

from aiohttp import web

from node.services import moderation, operator
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_admin

routes = web.RouteTableDef()
MAX_REASON = moderation.MAX_NOTE


@routes.get("/admin/members")
@page
async def members_page(request: web.Request) -> web.Response:
    await require_admin(request)
    ctx = request.app[context_key]
    query = request.query.get("q", "")[: operator.MAX_QUERY].strip()
    found = await operator.find_members(ctx, query, limit=200)
    reasons = {
        member.id: await moderation.suspension_reason(ctx, member)
        for member in found if not member.active
    }
    return await render(request, "admin/members.html", {
        "members": found, "query": query, "reasons": reasons, "max_reason": MAX_REASON,
        "host": ctx.settings.public_host,
    }, title=_("Members"))


async def _set(request: web.Request, suspended: bool) -> web.Response:
    principal = await require_admin(request)
    form = await read_form(request)
    reason = text(form, "reason", max_length=MAX_REASON)
    username = request.match_info["username"]
    member = await moderation.set_suspension(
        request.app[context_key], principal.member, username, suspended, reason
    )
    back = "/admin/members?q=" + member.username
    if suspended:
        raise redirect(request, back, _("%(name)s is suspended.", name=member.username))
    raise redirect(request, back, _("%(name)s may use the community again.", name=member.username))


@routes.post("/admin/members/{username}/suspend")
@page
async def suspend(request: web.Request) -> web.Response:
    return await _set(request, True)


@routes.post("/admin/members/{username}/unsuspend")
@page
async def unsuspend(request: web.Request) -> web.Response:
    return await _set(request, False)
