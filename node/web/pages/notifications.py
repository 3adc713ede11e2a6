"""The member's notifications: newest first, unread ones marked, each linking
to the exchange it concerns; one button marks them all read."""

from __future__ import annotations

from aiohttp import web

from node.errors import ValidationFailed
from node.timeutil import now_text
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import ngettext, page, redirect, render, require_member

routes = web.RouteTableDef()
#: Notifications the page lists (the newest).
SHOWN = 100


@routes.get("/notifications")
@page
async def notification_list(request: web.Request) -> web.Response:
    principal = await require_member(request)
    async with request.app[context_key].storage.read() as session:
        found = await session.list_notifications(
            principal.member.id, unread_only=False, limit=SHOWN
        )
    return await render(
        request, "notifications.html",
        {"notifications": found, "newest_id": found[0].id if found else 0,
         "any_unread": any(n.read_at is None for n in found)},
        title=_("Notifications"),
    )


@routes.post("/notifications/read")
@page
async def mark_all_read(request: web.Request) -> web.Response:
    """Marks read up to the newest one the page showed, so a notification that
    arrived meanwhile stays unread."""
    principal = await require_member(request)
    form = await read_form(request)
    raw = text(form, "up_to", max_length=18)
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(_("reload the page and try again"),
                               errors=[{"pointer": "/up_to", "reason": "not a number"}])
    async with request.app[context_key].storage.transaction() as tx:
        count = await tx.mark_notifications_read(principal.member.id, int(raw), now_text())
    raise redirect(request, "/notifications",
                   ngettext("%(num)s notification marked read.",
                            "%(num)s notifications marked read.", count))
