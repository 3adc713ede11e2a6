"""Form posts from the pages: bounded, CSRF-checked, and their errors mapped
back onto the fields that caused them.

Every unsafe request outside the machine endpoints (``/api/``, inboxes) passes
:func:`csrf_middleware`: a form must echo the per-browser token of the
``kula_csrf`` cookie, and a browser's ``Origin``, when sent, must be ours.
The cookie is HttpOnly and SameSite=Strict, so another site can neither read
it nor make the browser send it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from node.errors import Forbidden, NodeError, ValidationFailed
from node.typedefs import settings_key
from node.web.requests import raise_nul

CSRF_COOKIE = "kula_csrf"
CSRF_FIELD = "csrf_token"
_csrf_key = web.RequestKey("kula_csrf_value", str)
#: Paths whose unsafe methods are for machines (bearer tokens, HTTP signatures).
_MACHINE_PREFIXES = ("/api/", "/inbox")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CsrfFailed(Forbidden):
    type_slug = "csrf-failed"
    title = "Form expired"


def _is_machine_path(path: str) -> bool:
    return path.startswith(_MACHINE_PREFIXES) or (
        path.startswith("/users/") and path.endswith("/inbox")
    )


def csrf_token(request: web.Request) -> str:
    """The token forms on this page must carry; set as a cookie when new."""
    if _csrf_key not in request:
        existing = request.cookies.get(CSRF_COOKIE, "")
        request[_csrf_key] = existing if 20 <= len(existing) <= 100 else secrets.token_urlsafe(32)
    return request[_csrf_key]


def _origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = {urlsplit(request.app[settings_key].url).netloc, request.host}
    return urlsplit(origin).netloc in own


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in _UNSAFE and not _is_machine_path(request.path):
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not _origin_allowed(request):
            from node.web.pages.site import render_error

            return await render_error(request, CsrfFailed("the form was sent from another site"))
        sent = ""
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sent = str((await request.post()).get(CSRF_FIELD, ""))
        if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
            from node.web.pages.site import render_error

            return await render_error(
                request, CsrfFailed("the form expired or did not come from this site; reload it")
            )
    response = await handler(request)
    if _csrf_key in request and request.cookies.get(CSRF_COOKIE) != request[_csrf_key]:
        response.set_cookie(
            CSRF_COOKIE, request[_csrf_key], httponly=True, samesite="Strict", path="/",
            secure=request.app[settings_key].uses_https,
        )
    return response


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form (already CSRF-checked by the middleware); text holding
    U+0000 is refused as in JSON bodies (:func:`node.web.requests.raise_nul`)."""
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, str) and ("\x00" in value or "\x00" in name):
            raise_nul("/" + name.replace("~", "~0").replace("/", "~1"))
    return form


def text(form: MultiDictProxy[Any], name: str, *, max_length: int = 5000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise ValidationFailed(
            f"{name} must be text", errors=[{"pointer": f"/{name}", "reason": "type"}]
        )
    if len(value) > max_length:
        raise ValidationFailed(
            f"{name} is longer than {max_length} characters",
            errors=[{"pointer": f"/{name}", "reason": "maxLength"}],
        )
    return value.strip()


def field_errors(exc: NodeError) -> dict[str, str]:
    """Problem ``errors`` keyed by the top-level field their JSON pointer names,
    so a form shows each message beside its control."""
    found: dict[str, str] = {}
    for error in exc.extensions.get("errors", []):
        pointer = str(error.get("pointer", ""))
        field = pointer.strip("/").split("/")[0] or "_form"
        found.setdefault(field, str(error.get("reason", exc.detail)))
    return found
