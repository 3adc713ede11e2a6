"""Reading what a client sent: bounded JSON bodies, credentials, rate limits."""

from __future__ import annotations

from typing import Any, NoReturn

from aiohttp import web

from node.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from node.services.tokens import Principal, authenticate_token
from node.typedefs import (
    auth_limiter_key,
    context_key,
    settings_key,
    write_limiter_key,
)
from protocol.jsonparse import parse_json
from protocol.validation import validate

SESSION_COOKIE = "kula_session"
_JSON_TYPES = {"application/json", "application/activity+json", "application/ld+json"}
principal_key = web.RequestKey("principal", object)


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """Read at most ``max_bytes``, refusing larger bodies before buffering them."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    # read(n) returns what has arrived so far, not n bytes: loop until the end.
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(max_bytes + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    return b"".join(chunks)


async def read_json(request: web.Request, schema: str | None = None) -> Any:
    """Parse a JSON request body strictly and validate it against ``schema``."""
    if request.content_type not in _JSON_TYPES:
        raise UnsupportedMediaType("send the body as application/json")
    max_bytes = request.app[settings_key].max_body_bytes
    body = await read_body(request, max_bytes)
    if not body:
        raise BadRequest("the request body is empty")
    document = parse_json(body, max_bytes=max_bytes)
    # JSON carries U+0000 only as an escape; most bodies need no walk at all.
    if b"\\u0000" in body and (pointer := nul_pointer(document)) is not None:
        raise_nul(pointer)
    if schema is not None:
        validate(document, schema)
    return document


def nul_pointer(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first text (member name or string) holding
    U+0000 in ``value``, or None."""
    if isinstance(value, str):
        return pointer if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        inner = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if isinstance(key, str) and "\x00" in key:
            return inner
        found = nul_pointer(item, inner)
        if found is not None:
            return found
    return None


def raise_nul(pointer: str) -> NoReturn:
    """Refuse text holding U+0000, on every backend alike: PostgreSQL cannot
    store it, and other servers may refuse what would be federated with it."""
    raise ValidationFailed(
        "text may not hold the character U+0000 (NUL)",
        errors=[{"pointer": pointer, "reason": "U+0000 is not allowed in text"}],
    )


def client_key(request: web.Request) -> str:
    return request.remote or "unknown"


def limit_auth(request: web.Request) -> None:
    request.app[auth_limiter_key].check(f"auth:{client_key(request)}")


def limit_write(request: web.Request, principal: Principal) -> None:
    request.app[write_limiter_key].check(f"write:{principal.member.id}")


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Unauthorized("use an Authorization: Bearer <token> header")
        return credentials.strip()
    return request.cookies.get(SESSION_COOKIE)


async def optional_principal(request: web.Request) -> Principal | None:
    if principal_key in request:
        cached = request[principal_key]
        return cached if isinstance(cached, Principal) else None
    secret = _bearer(request)
    principal = None
    if secret is not None:
        principal = await authenticate_token(request.app[context_key], secret)
    request[principal_key] = principal
    return principal


async def require(request: web.Request, scope: str) -> Principal:
    """The authenticated caller, holding at least ``scope``; writes are rate limited."""
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized("this endpoint needs a bearer token")
    if not principal.allows(scope):
        raise Forbidden(f"this endpoint needs a token with the {scope!r} scope")
    if scope != "read":
        limit_write(request, principal)
    return principal
