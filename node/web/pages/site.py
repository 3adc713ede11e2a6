"""Templates, translations and the page decorator: everything a page handler
needs to answer with HTML."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel.support import NullTranslations, Translations

from node.errors import NodeError, Unauthorized
from node.services.community import community_profile
from node.services.tokens import Principal
from node.typedefs import context_key, settings_key
from node.web.pages.forms import CSRF_FIELD, csrf_token
from node.web.pages.sessions import current_principal
from node.web.problems import PROTOCOL_STATUS
from protocol.errors import ProtocolError

WEB_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = WEB_DIR / "static"
LOCALE_DIR = WEB_DIR / "locale"
TEMPLATE_DIR = WEB_DIR / "templates"
#: Catalogue domain; ``pybabel extract -F babel.cfg -o node/web/locale/kula.pot .``
DOMAIN = "kula"
DEFAULT_LOCALE = "en"
NOTICE_COOKIE = "kula_notice"

PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_translations: ContextVar[NullTranslations | None] = ContextVar("kula_translations", default=None)


def _current() -> NullTranslations:
    return _translations.get() or _catalogue(DEFAULT_LOCALE)


def available_locales() -> list[str]:
    found = {DEFAULT_LOCALE}
    if LOCALE_DIR.is_dir():
        found |= {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return sorted(found)


@functools.cache
def _catalogue(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], domain=DOMAIN)


def negotiate_locale(accept_language: str) -> str:
    """The best of our locales for an ``Accept-Language`` header (RFC 9110 §12.5.4)."""
    offered = available_locales()
    ranked: list[tuple[float, str]] = []
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((quality, tag.strip().lower()))
    for _, tag in sorted(ranked, key=lambda item: -item[0]):
        for locale in offered:
            if tag == locale.lower() or tag.split("-")[0] == locale.lower():
                return locale
    return DEFAULT_LOCALE


def gettext(message: str, **variables: Any) -> str:
    """Translate ``message`` for the current request; ``%(name)s`` placeholders."""
    text = _current().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """Plural form for ``n``, with ``%(num)s`` and ``variables`` filled in."""
    text = _current().ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def _template_gettext(message: str) -> str:
    # Jinja's newstyle gettext fills the placeholders itself, after escaping.
    return _current().gettext(message)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return _current().ngettext(singular, plural, n)


def setup_templates(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True
    )
    env.globals["static"] = static_url


@functools.cache
def static_url(name: str) -> str:
    """``/static/<name>`` with a content hash, so browsers may cache it forever."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


async def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    title: str = "",
) -> web.Response:
    """Render ``template`` inside the site layout, with the session, CSRF token,
    community and a one-shot notice available to every template."""
    principal = await current_principal(request)
    notice = request.cookies.get(NOTICE_COOKIE, "")[:300]
    unread = 0
    async with request.app[context_key].storage.read() as session:
        profile = await community_profile(request.app[context_key], session)
        if principal is not None:
            unread = await session.count_unread_notifications(principal.member.id)
    page_context = {
        "title": title,
        "me": principal.member if principal else None,
        "is_admin": bool(principal and principal.member.is_admin),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "community": {"name": profile.name, "description": profile.description,
                      "rules": profile.rules, "contact": profile.contact},
        "registration": profile.registration,
        "notice": notice,
        "unread_notifications": unread,
        "path": request.path_qs,
        **(context or {}),
    }
    response = aiohttp_jinja2.render_template(template, request, page_context, status=status)
    if notice:
        response.del_cookie(NOTICE_COOKIE, path="/")
    response.headers["Cache-Control"] = "no-store" if principal else "private, no-cache"
    response.headers["Vary"] = "Accept, Cookie"
    return response


def redirect(request: web.Request, location: str, notice: str = "") -> web.HTTPSeeOther:
    """A POST-redirect-GET answer carrying a one-line notice for the next page."""
    response = web.HTTPSeeOther(location)
    if notice:
        response.set_cookie(
            NOTICE_COOKIE, notice[:300], httponly=True, samesite="Lax", path="/",
            secure=request.app[settings_key].uses_https, max_age=60,
        )
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after login, never another origin."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _status_of(exc: NodeError | ProtocolError) -> int:
    if isinstance(exc, NodeError):
        return exc.status
    return next(status for kind, status, _ in PROTOCOL_STATUS if isinstance(exc, kind))


async def render_error(request: web.Request, exc: NodeError | ProtocolError) -> web.Response:
    status = _status_of(exc)
    title = exc.title if isinstance(exc, NodeError) else gettext("Request refused")
    return await render(
        request, "error.html", {"status": status, "message": exc.detail}, status=status,
        title=title,
    )


def page(handler: PageHandler) -> PageHandler:
    """Turn domain errors into HTML error pages, and a missing login into a
    redirect to the login page."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        _translations.set(_catalogue(negotiate_locale(request.headers.get("Accept-Language", ""))))
        try:
            return await handler(request)
        except Unauthorized:
            raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='/')}") from None
        except (NodeError, ProtocolError) as exc:
            return await render_error(request, exc)

    return wrapped


async def require_member(request: web.Request) -> Principal:
    principal = await current_principal(request)
    if principal is None:
        raise Unauthorized("log in to see this page")
    return principal


async def require_admin(request: web.Request) -> Principal:
    principal = await require_member(request)
    if not principal.allows("admin"):
        from node.errors import Forbidden

        raise Forbidden(gettext("only the community's operators can see this page"))
    return principal


def wants_html(request: web.Request) -> bool:
    """Content negotiation for IRIs that are both an ActivityPub object and a
    page: servers ask for JSON-LD, browsers for HTML."""
    accept = request.headers.get("Accept", "")
    if "application/activity+json" in accept or "application/ld+json" in accept:
        return False
    return "text/html" in accept
