"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from node.errors import NodeError
from node.web.middleware import add_security_headers
from protocol.errors import (
    CanonicalizationError,
    DigestError,
    ExchangeStateError,
    JsonLdError,
    LimitError,
    ProofError,
    ProtocolError,
    SchemaError,
    SignatureError,
)

PROBLEM_BASE = "https://kula.community/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger("kula.web")

# Protocol failures and the HTTP status and problem type each one means.
PROTOCOL_STATUS: list[tuple[type[ProtocolError], int, str]] = [
    (LimitError, 413, "payload-too-large"),
    (SchemaError, 422, "validation-failed"),
    (CanonicalizationError, 400, "malformed-json"),
    (DigestError, 401, "digest-mismatch"),
    (SignatureError, 401, "signature-invalid"),
    (ProofError, 422, "proof-invalid"),
    (JsonLdError, 422, "jsonld-invalid"),
    (ExchangeStateError, 409, "exchange-state-conflict"),
    (ProtocolError, 400, "bad-request"),
]

HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    410: "gone",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "rate-limited",
}


# Bounds of schemas/problem.schema.json. A schema violation quotes the offending
# value, so without them a client's oversized input would break the published shape.
_MAX_DETAIL, _MAX_INSTANCE, _MAX_POINTER, _MAX_REASON, _MAX_ERRORS = 5000, 2048, 1024, 1000, 100


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        {"pointer": _clip(e["pointer"], _MAX_POINTER), "reason": _clip(e["reason"], _MAX_REASON)}
        for e in errors[:_MAX_ERRORS]
    ]


def problem_response(
    status: int, slug: str, title: str, detail: str, instance: str, **extensions: Any
) -> web.Response:
    if "errors" in extensions:
        extensions["errors"] = _clip_errors(extensions["errors"])
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": _clip(detail, _MAX_DETAIL),
        "instance": _clip(instance, _MAX_INSTANCE),
        **extensions,
    }
    headers = {}
    if "retry_after" in extensions:
        headers["Retry-After"] = str(extensions["retry_after"])
    response = web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )
    add_security_headers(response)
    return response


def _protocol_problem(exc: ProtocolError, instance: str) -> web.Response:
    status, slug = next(
        (status, slug) for kind, status, slug in PROTOCOL_STATUS if isinstance(exc, kind)
    )
    extensions: dict[str, Any] = {}
    if isinstance(exc, SchemaError) and exc.errors:
        extensions["errors"] = [{"pointer": p, "reason": r} for p, r in exc.errors]
    elif exc.pointer:
        extensions["errors"] = [{"pointer": exc.pointer, "reason": exc.detail}]
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        extensions["reason"] = reason
    title = slug.replace("-", " ").capitalize()
    return problem_response(status, slug, title, exc.detail, instance, **extensions)


@web.middleware
async def problem_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # Also adds the security headers to every returned answer (problem
    # responses carry them already): one middleware layer fewer per request.
    try:
        response = await handler(request)
        add_security_headers(response)
        return response
    except NodeError as exc:
        if exc.status >= 500:
            log.error("request failed: %s", exc.detail, extra={"path": request.path})
        return problem_response(
            exc.status, exc.type_slug, exc.title, exc.detail, request.path, **exc.extensions
        )
    except ProtocolError as exc:
        return _protocol_problem(exc, request.path)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == PROBLEM_CONTENT_TYPE:
            raise
        slug = HTTP_SLUGS.get(exc.status, "http-error")
        detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        response = problem_response(exc.status, slug, exc.reason, detail, request.path)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except web.RequestPayloadError:
        # aiohttp could not read the body as sent: a Content-Encoding that does
        # not decode, or a chunked body that breaks off.
        return problem_response(
            400, "bad-request", "Bad request", "the request body cannot be read as sent",
            request.path,
        )
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return problem_response(
            500, "internal", "Internal error", "the node hit an unexpected error", request.path
        )
