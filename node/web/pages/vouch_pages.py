"""Vouches on profile pages: who vouched for someone ("I know this person"),
and the buttons to vouch for them or to take one's vouch back.

A vouch is a signed credential (:mod:`node.services.vouches`); it lends the
person some of the voucher's trust in the reputation computation, so the
button explains that before it is pressed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import Conflict
from node.services import vouches
from node.services.context import NodeContext
from node.storage.records import Member
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.profile_views import label_actor
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, require_member, safe_next
from node.web.requests import limit_write

routes = web.RouteTableDef()
MAX_IRI = 2048
#: Most vouchers a profile lists (oldest first).
MAX_VOUCHERS_SHOWN = 100


def vouch_id_of(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


async def vouch_section(
    ctx: NodeContext, subject_iri: str, viewer: Member | None
) -> dict[str, Any]:
    """Who vouches for ``subject_iri`` as this node knows it, and the viewer's own vouch."""
    viewer_iri = ctx.urls.actor(viewer.username) if viewer is not None else None
    async with ctx.storage.read() as session:
        records = await session.vouches_about(subject_iri)
        vouchers = [
            {"voucher": await label_actor(ctx, session, record.issuer_iri),
             "date": record.valid_from[:10], "iri": record.iri}
            for record in records[:MAX_VOUCHERS_SHOWN]
        ]
        mine = (await session.current_vouch(viewer_iri, subject_iri)
                if viewer_iri is not None and viewer_iri != subject_iri else None)
    return {
        "vouchers": vouchers,
        "count": len(records),
        "can_vouch": viewer_iri is not None and viewer_iri != subject_iri and mine is None,
        "revoke_url": f"/vouches/{vouch_id_of(mine.iri)}/revoke" if mine is not None else "",
        "target": subject_iri,
    }


@routes.post("/vouch")
@page
async def vouch(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    form = await read_form(request)
    back = safe_next(text(form, "next", max_length=MAX_IRI + 40))
    target = text(form, "target", max_length=MAX_IRI)
    try:
        await vouches.issue(request.app[context_key], principal.member, target)
    except Conflict:
        raise redirect(request, back, _("You already vouch for them.")) from None
    raise redirect(request, back, _("You vouched for them: your signed vouch is on its way."))


@routes.post("/vouches/{vouch_id}/revoke")
@page
async def revoke(request: web.Request) -> web.Response:
    principal = await require_member(request)
    limit_write(request, principal)
    form = await read_form(request)
    back = safe_next(text(form, "next", max_length=MAX_IRI + 40))
    await vouches.revoke(request.app[context_key], principal.member, request.match_info["vouch_id"])
    raise redirect(request, back, _("Your vouch is revoked."))
