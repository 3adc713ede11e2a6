"""Who is browsing: the session cookie shared with the client API."""

from __future__ import annotations

from aiohttp import web

from node.errors import Unauthorized
from node.services import tokens
from node.services.tokens import Principal
from node.storage.records import Member
from node.typedefs import context_key, settings_key
from node.web.requests import SESSION_COOKIE, principal_key

_anonymous = web.RequestKey("kula_anonymous", bool)


async def current_principal(request: web.Request) -> Principal | None:
    """The signed-in member, or None. A stale or revoked cookie reads as signed
    out instead of failing the page."""
    if principal_key in request:
        cached = request[principal_key]
        return cached if isinstance(cached, Principal) else None
    secret = request.cookies.get(SESSION_COOKIE)
    principal = None
    if secret:
        try:
            principal = await tokens.authenticate_token(request.app[context_key], secret)
        except Unauthorized:
            request[_anonymous] = True
        # Only tokens issued by a login live in cookies: an API token pasted into
        # a cookie (a read-only one, say) must not act through the pages.
        if principal is not None and principal.token.kind != "session":
            principal = None
    request[principal_key] = principal
    return principal


async def start_session(request: web.Request, response: web.StreamResponse, member: Member) -> None:
    """Issue a session token for ``member`` and set it as the HttpOnly cookie."""
    scope = "admin" if member.is_admin else "write"
    issued = await tokens.issue_token(
        request.app[context_key], member, "web session", scope, kind="session"
    )
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        httponly=True,
        secure=request.app[settings_key].uses_https,
        samesite="Lax",
        max_age=tokens.SESSION_DAYS * 86400,
        path="/",
    )


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    principal = await current_principal(request)
    if principal is not None:
        await tokens.revoke_token(request.app[context_key], principal.member, principal.token.id)
    response.del_cookie(SESSION_COOKIE, path="/")
