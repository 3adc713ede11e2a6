"""The operator's pages: the overview, community settings and invites.
Every page here is for administrators only (``require_admin``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import NodeError, ValidationFailed
from node.services import community, invites, operator
from node.timeutil import now_text
from node.typedefs import context_key
from node.web.pages.accounts import form_messages
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_admin

routes = web.RouteTableDef()


def registration_options() -> list[tuple[str, str]]:
    return [("open", _("Open: anyone can sign up")),
            ("invite", _("Invite-only: sign-up needs an invite code")),
            ("closed", _("Closed: nobody can sign up"))]


def action_labels() -> dict[str, str]:
    """What each moderation action is called on the pages."""
    return {"dismiss": _("Dismissed"), "resolve": _("Resolved"), "hide": _("Hidden"),
            "remove": _("Removed"), "suspend": _("Suspended"), "unsuspend": _("Suspension lifted"),
            "block": _("Host blocked"), "forward": _("Forwarded")}


@routes.get("/admin")
@page
async def dashboard(request: web.Request) -> web.Response:
    await require_admin(request)
    ctx = request.app[context_key]
    profile = await community.community_profile(ctx)
    async with ctx.storage.read() as session:
        recent = await session.recent_moderation(limit=10)
    labels = dict(registration_options())
    return await render(request, "admin/dashboard.html", {
        "overview": await operator.overview(ctx), "recent": recent,
        "registration_label": labels[profile.registration], "action_labels": action_labels(),
        "federation": ctx.settings.federation,
    }, title=_("Operator"))


async def _settings_page(
    request: web.Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> web.Response:
    return await render(request, "admin/settings.html", {
        "values": values, "errors": errors, "limits": community.LIMITS,
        "registration_options": registration_options(),
    }, status=status, title=_("Community settings"))


@routes.get("/admin/settings")
@page
async def settings_form(request: web.Request) -> web.Response:
    await require_admin(request)
    profile = await community.community_profile(request.app[context_key])
    return await _settings_page(request, profile.as_json(), {})


@routes.post("/admin/settings")
@page
async def save_settings(request: web.Request) -> web.Response:
    await require_admin(request)
    form = await read_form(request)
    values: dict[str, Any] = dict.fromkeys(community.FIELDS, "")
    try:
        for name in community.FIELDS:
            values[name] = text(form, name, max_length=community.LIMITS.get(name, 20))
        await community.update_community(request.app[context_key], dict(values))
    except NodeError as exc:
        return await _settings_page(request, values, form_messages(exc), exc.status)
    raise redirect(request, "/admin/settings", _("The community settings are saved."))


async def _invites_page(
    request: web.Request, *, created: invites.IssuedInvite | None = None,
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    ctx = request.app[context_key]
    found = await invites.list_invites(ctx)
    return await render(request, "admin/invites.html", {
        "invites": list(reversed(found)), "created": created,
        "created_link": f"{ctx.urls.base}/signup?invite={created.code}" if created else "",
        "values": values or {"max_uses": "1", "expires_in_days": "14", "note": "", "vouch": ""},
        "errors": errors or {}, "now": now_text(),
    }, status=status, title=_("Invites"))


@routes.get("/admin/invites")
@page
async def invites_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _invites_page(request)


def _number(form: Any, name: str, low: float, high: float, *, whole: bool) -> float | None:
    raw = text(form, name, max_length=20)
    if not raw:
        return None
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationFailed(
            _("%(field)s must be a number from %(low)s to %(high)s", field=name, low=int(low),
              high=int(high)),
            errors=[{"pointer": f"/{name}", "reason": "range"}],
        )
    return value


@routes.post("/admin/invites")
@page
async def create_invite(request: web.Request) -> web.Response:
    principal = await require_admin(request)
    form = await read_form(request)
    values = {"max_uses": "", "expires_in_days": "", "note": "", "vouch": ""}
    try:
        values = {name: text(form, name, max_length=600) for name in values}
        max_uses = _number(form, "max_uses", 1, 10_000, whole=True)
        if max_uses is None:
            raise ValidationFailed(_("say how many people can use the invite"),
                                   errors=[{"pointer": "/max_uses", "reason": "required"}])
        issued = await invites.create_invite(
            request.app[context_key], created_by=principal.member.id, max_uses=int(max_uses),
            expires_in_days=_number(form, "expires_in_days", 1, 3650, whole=False),
            note=text(form, "note", max_length=500),
            vouch_by=principal.member.id if form.get("vouch") else None,
        )
    except NodeError as exc:
        return await _invites_page(request, values=values, errors=form_messages(exc),
                                   status=exc.status)
    return await _invites_page(request, created=issued, status=201)


@routes.post("/admin/invites/{invite_id}/revoke")
@page
async def revoke_invite(request: web.Request) -> web.Response:
    await require_admin(request)
    await invites.revoke_invite(request.app[context_key], request.match_info["invite_id"])
    raise redirect(request, "/admin/invites", _("The invite is revoked."))
