"""The member's own account: profile and password, API tokens, moving to
another node, and a download of everything that is theirs."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from node.errors import Forbidden, NodeError, RateLimited, Unauthorized, ValidationFailed
from node.services import accounts, export, moves, tokens
from node.services.tokens import Principal
from node.timeutil import now_text
from node.typedefs import context_key
from node.web.pages.accounts import form_messages, password_field, rate_limited
from node.web.pages.forms import field_errors, read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_member
from node.web.requests import limit_auth

routes = web.RouteTableDef()
MAX_TOKEN_NAME = 100
MAX_ALIASES = 10


async def _settings_page(
    request: web.Request, principal: Principal, *, profile: dict[str, Any] | None = None,
    profile_errors: dict[str, str] | None = None, password_errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    member = principal.member
    values = profile or {
        "display_name": member.display_name, "summary": member.summary,
        "manually_approves_followers": member.manually_approves_followers,
    }
    return await render(
        request, "account/settings.html",
        {"values": values, "profile_errors": profile_errors or {},
         "password_errors": password_errors or {},
         "max_display_name": accounts.MAX_DISPLAY_NAME_LENGTH,
         "max_summary": accounts.MAX_SUMMARY_LENGTH},
        status=status, title=_("Your account"),
    )


@routes.get("/account")
@page
async def settings(request: web.Request) -> web.Response:
    return await _settings_page(request, await require_member(request))


@routes.post("/account/profile")
@page
async def save_profile(request: web.Request) -> web.Response:
    principal = await require_member(request)
    form = await read_form(request)
    values: dict[str, Any] = {"display_name": "", "summary": "",
                              "manually_approves_followers": False}
    try:
        values["display_name"] = text(form, "display_name", max_length=1000)
        values["summary"] = text(form, "summary", max_length=10_000)
        values["manually_approves_followers"] = form.get("manually_approves_followers") == "on"
        await accounts.update_profile(request.app[context_key], principal.member, **values)
    except NodeError as exc:
        return await _settings_page(
            request, principal, profile=values, profile_errors=form_messages(exc),
            status=exc.status,
        )
    raise redirect(request, "/account", _("Your profile is saved."))


@routes.post("/account/password")
@page
async def change_password(request: web.Request) -> web.Response:
    principal = await require_member(request)
    form = await read_form(request)
    try:
        limit_auth(request)
        await accounts.change_password(
            request.app[context_key], principal.member,
            password_field(form, "current_password"), password_field(form, "new_password"),
            keep_session=principal.token.id,
        )
    except RateLimited as exc:
        return await rate_limited(request, exc)
    except Unauthorized:
        errors = {"current_password": _("The current password is wrong.")}
        return await _settings_page(request, principal, password_errors=errors, status=422)
    except ValidationFailed as exc:
        field = "current_password" if "current_password" in field_errors(exc) else "new_password"
        return await _settings_page(
            request, principal, password_errors={field: exc.detail}, status=exc.status
        )
    raise redirect(request, "/account", _("Your password is changed."))


@routes.get("/account/export")
@page
async def download_export(request: web.Request) -> web.Response:
    principal = await require_member(request)
    document = await export.export_member(request.app[context_key], principal.member)
    filename = export.export_filename(principal.member, document["exported_at"])
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )


async def _tokens_page(
    request: web.Request, principal: Principal, *, created: tokens.IssuedToken | None = None,
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    found = await tokens.list_tokens(request.app[context_key], principal.member)
    scopes = [("read", _("Read: see your account, exchanges and notifications")),
              ("write", _("Write: also publish, offer and message on your behalf"))]
    if principal.member.is_admin:
        scopes.append(("admin", _("Admin: also run the community")))
    return await render(
        request, "account/tokens.html",
        {"tokens": found, "current_token": principal.token.id, "created": created,
         "scopes": scopes, "values": values or {"name": "", "scope": "read"},
         "errors": errors or {}, "max_name": MAX_TOKEN_NAME, "now": now_text()},
        status=status, title=_("API tokens"),
    )


@routes.get("/account/tokens")
@page
async def token_list(request: web.Request) -> web.Response:
    return await _tokens_page(request, await require_member(request))


@routes.post("/account/tokens")
@page
async def create_token(request: web.Request) -> web.Response:
    principal = await require_member(request)
    form = await read_form(request)
    values = {"name": "", "scope": "read"}
    try:
        values["name"] = text(form, "name", max_length=MAX_TOKEN_NAME)
        values["scope"] = text(form, "scope", max_length=10) or "read"
        if not values["name"]:
            raise ValidationFailed(_("give the token a name, such as the app that will use it"),
                                   errors=[{"pointer": "/name", "reason": "required"}])
        if values["scope"] in tokens.SCOPES and not principal.allows(values["scope"]):
            raise Forbidden(_("a token cannot grant more than your own session"))
        issued = await tokens.issue_token(
            request.app[context_key], principal.member, values["name"], values["scope"]
        )
    except NodeError as exc:
        return await _tokens_page(request, principal, values=values,
                                  errors=form_messages(exc, "scope"), status=exc.status)
    # The secret is in this answer only: it is stored hashed and never shown again.
    return await _tokens_page(request, principal, created=issued, status=201)


@routes.post("/account/tokens/{token_id}/revoke")
@page
async def revoke_token(request: web.Request) -> web.Response:
    principal = await require_member(request)
    await tokens.revoke_token(
        request.app[context_key], principal.member, request.match_info["token_id"]
    )
    if request.match_info["token_id"] == principal.token.id:
        raise redirect(request, "/", _("You revoked this browser's session and are logged out."))
    raise redirect(request, "/account/tokens", _("The token is revoked."))


async def _move_page(
    request: web.Request, principal: Principal, *, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> web.Response:
    ctx = request.app[context_key]
    member = principal.member
    return await render(
        request, "account/move.html",
        {"values": values or {"target": "", "aliases": "\n".join(member.aliases)},
         "errors": errors or {}, "moved_to": member.moved_to,
         "handle": f"{member.username}@{ctx.settings.public_host}",
         "iri": ctx.urls.actor(member.username), "max_aliases": MAX_ALIASES},
        status=status, title=_("Move your account"),
    )


@routes.get("/account/move")
@page
async def move_form(request: web.Request) -> web.Response:
    return await _move_page(request, await require_member(request))


@routes.post("/account/move")
@page
async def move(request: web.Request) -> web.Response:
    principal = await require_member(request)
    form = await read_form(request)
    values = {"target": "", "aliases": "\n".join(principal.member.aliases)}
    try:
        values["target"] = text(form, "target", max_length=2048)
        if not values["target"]:
            raise ValidationFailed(_("name the account to move to, like name@host"),
                                   errors=[{"pointer": "/target", "reason": "required"}])
        if form.get("confirm") != "yes":
            raise ValidationFailed(_("tick the box to confirm that you understand the move"),
                                   errors=[{"pointer": "/confirm", "reason": "required"}])
        new_iri = await moves.move(request.app[context_key], principal.member, values["target"])
    except NodeError as exc:
        return await _move_page(request, principal, values=values,
                                errors=form_messages(exc, "target"), status=exc.status)
    raise redirect(request, "/account/move", _("Your account moved to %(iri)s.", iri=new_iri))


@routes.post("/account/aliases")
@page
async def save_aliases(request: web.Request) -> web.Response:
    principal = await require_member(request)
    form = await read_form(request)
    values = {"target": "", "aliases": ""}
    try:
        values["aliases"] = text(form, "aliases", max_length=MAX_ALIASES * 2100)
        targets = [line.strip() for line in values["aliases"].splitlines() if line.strip()]
        if len(targets) > MAX_ALIASES:
            raise ValidationFailed(_("list at most %(n)s accounts", n=MAX_ALIASES),
                                   errors=[{"pointer": "/aliases", "reason": "maxItems"}])
        await moves.set_aliases(request.app[context_key], principal.member, targets)
    except NodeError as exc:
        # Every error here concerns the list, whatever field the service names.
        return await _move_page(request, principal, values=values,
                                errors={"aliases": exc.detail}, status=exc.status)
    raise redirect(request, "/account/move", _("Your other accounts are saved."))
