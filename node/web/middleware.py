"""Cross-cutting concerns of every answer: security headers and access logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import istr

from node.logsetup import direct_json_handler, json_line

log = logging.getLogger("kula.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data: https:; style-src 'self'; script-src 'self';"
    " connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


# Header names as istr, which carry their case-folded form: with a plain str the
# response's case-insensitive header map folds the name again for every answer.
_X_CONTENT_TYPE_OPTIONS = istr("X-Content-Type-Options")
_REFERRER_POLICY = istr("Referrer-Policy")
_CONTENT_SECURITY_POLICY = istr("Content-Security-Policy")


def add_security_headers(response: web.StreamResponse) -> None:
    """The headers every answer carries; problem responses (which echo what a
    client sent) get them from :func:`node.web.problems.problem_response`."""
    headers = response.headers
    headers.setdefault(_X_CONTENT_TYPE_OPTIONS, "nosniff")
    headers.setdefault(_REFERRER_POLICY, "same-origin")
    headers.setdefault(_CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)


def log_access(request: web.Request, status: int, seconds: float) -> None:
    """One access-log line; called by the request middleware
    (:func:`node.web.metrics.request_metrics_middleware`), which times the request once
    for both. Nothing is built when the ``kula.access`` logger is off for INFO."""
    if not log.isEnabledFor(logging.INFO):
        return
    method, path = request.method, request.path
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "remote": request.remote,
    }
    handler = direct_json_handler(log, logging.INFO)
    if handler is not None:
        message = f"{method} {path} {status}"
        handler.emit_line(json_line(time.time(), "INFO", log.name, message, fields))
    else:
        log.info("%s %s %s", method, path, status, extra=fields)
