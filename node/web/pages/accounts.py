"""Joining and signing in: sign-up by the node's registration mode, login,
logout, and the page that says what this community is."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from node.errors import Conflict, Forbidden, NodeError, RateLimited, Unauthorized, ValidationFailed
from node.services import accounts
from node.services.community import community_profile
from node.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from node.typedefs import context_key, settings_key
from node.web.pages.forms import field_errors, read_form, text
from node.web.pages.sessions import current_principal, end_session, start_session
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, safe_next
from node.web.requests import limit_auth

routes = web.RouteTableDef()
MAX_INVITE_LENGTH = 200


def form_messages(exc: NodeError, default_field: str = "_form") -> dict[str, str]:
    """The error beside each field it concerns, or beside ``default_field``."""
    fields = field_errors(exc)
    return {name: exc.detail for name in fields} if fields else {default_field: exc.detail}


def password_field(form: MultiDictProxy[Any], name: str) -> str:
    """A password exactly as typed: spaces count, unlike other fields."""
    value = form.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("a password is %(low)s to %(high)s characters",
              low=MIN_PASSWORD_LENGTH, high=MAX_PASSWORD_LENGTH),
            errors=[{"pointer": f"/{name}", "reason": "length"}],
        )
    return value


def username_field(form: MultiDictProxy[Any]) -> str:
    # Phones capitalise the first letter; usernames are lowercase by definition.
    return text(form, "username", max_length=100).lower()


async def rate_limited(request: web.Request, exc: RateLimited) -> web.Response:
    """A friendly page for too many login or sign-up attempts, with Retry-After."""
    retry_after = int(exc.extensions.get("retry_after", 60))
    response = await render(
        request, "account/rate_limited.html", {"retry_after": retry_after, "back": request.path},
        status=429, title=_("Too many attempts"),
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


async def _signup_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    return await render(
        request, "account/signup.html",
        {"values": values, "errors": errors, "min_password": MIN_PASSWORD_LENGTH,
         "max_invite": MAX_INVITE_LENGTH, "host": request.app[settings_key].public_host},
        status=status, title=_("Sign up"),
    )


@routes.get("/signup")
@page
async def signup_form(request: web.Request) -> web.Response:
    if await current_principal(request) is not None:
        raise redirect(request, "/", _("You already have an account and are logged in."))
    invite = request.query.get("invite", "")[:MAX_INVITE_LENGTH]
    return await _signup_page(request, {"username": "", "invite_code": invite}, {})


@routes.post("/signup")
@page
async def signup(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    form = await read_form(request)
    values = {"username": "", "invite_code": ""}
    registration = (await community_profile(ctx)).registration
    try:
        if registration == "closed":
            raise Forbidden(_("registration on this node is closed"))
        limit_auth(request)
        values["username"] = username_field(form)
        values["invite_code"] = text(form, "invite_code", max_length=MAX_INVITE_LENGTH)
        member = await accounts.register(
            ctx, values["username"], password_field(form, "password"),
            values["invite_code"] or None,
        )
    except RateLimited as exc:
        return await rate_limited(request, exc)
    except Conflict as exc:
        return await _signup_page(request, values, form_messages(exc, "username"), exc.status)
    except Forbidden as exc:
        field = "invite_code" if registration == "invite" else "_form"
        return await _signup_page(request, values, form_messages(exc, field), exc.status)
    except NodeError as exc:
        return await _signup_page(request, values, form_messages(exc), exc.status)
    response = redirect(
        request, "/", _("Welcome, %(name)s! Your account is ready.", name=member.username)
    )
    await start_session(request, response, member)
    raise response


async def _login_page(
    request: web.Request, username: str, target: str, errors: dict[str, str], status: int = 200
) -> web.Response:
    return await render(
        request, "account/login.html",
        {"username": username, "next": target, "errors": errors},
        status=status, title=_("Log in"),
    )


@routes.get("/login")
@page
async def login_form(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if await current_principal(request) is not None:
        raise web.HTTPSeeOther(target)
    return await _login_page(request, "", target, {})


@routes.post("/login")
@page
async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    target = safe_next(text(form, "next", max_length=2000))
    username = ""
    try:
        limit_auth(request)
        username = username_field(form)
        member = await accounts.authenticate(
            request.app[context_key], username, password_field(form, "password")
        )
    except RateLimited as exc:
        return await rate_limited(request, exc)
    except Unauthorized:
        # The same words whether the name or the password was wrong.
        errors = {"_form": _("Unknown username or wrong password.")}
        return await _login_page(request, username, target, errors, 422)
    except NodeError as exc:
        return await _login_page(request, username, target, form_messages(exc), exc.status)
    response = redirect(request, target)
    await start_session(request, response, member)
    raise response


@routes.post("/logout")
@page
async def logout(request: web.Request) -> web.Response:
    response = redirect(request, "/", _("You are logged out."))
    await end_session(request, response)
    raise response


@routes.get("/about")
@page
async def about(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    settings = request.app[settings_key]
    async with ctx.storage.read() as session:
        members = await session.count_members()
        listings = await session.count_local_listings()
        # Operators are among the first members; a bound keeps the page cheap.
        everyone = await session.list_members(limit=1000)
    operators = [m for m in everyone if m.is_admin and m.active]
    return await render(
        request, "about.html",
        {"members": members, "listings": listings, "operators": operators,
         "federation": settings.federation, "host": settings.public_host},
        title=_("About %(name)s", name=(await community_profile(ctx)).name),
    )
