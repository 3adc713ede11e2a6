"""``GET /metrics`` in the Prometheus text format, and the middleware that
counts and times every request.

Who may read it: a client connected over loopback without any proxy header
(a Prometheus or ``curl`` on the node's own machine), or anyone presenting an
admin token. A reverse proxy on the same machine also connects over loopback,
which is why a request carrying ``Forwarded``, ``X-Forwarded-For`` or
``X-Real-IP`` never counts as local; the example proxy configurations in
``deploy/`` also refuse ``/metrics`` outright.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from importlib import metadata

from aiohttp import web

from node.errors import Forbidden, Unauthorized
from node.metrics import CONTENT_TYPE, MetricFamily, figure_families, render
from node.storage.metrics_queries import read_node_figures
from node.timeutil import utc_now
from node.typedefs import metrics_key, storage_key
from node.web.middleware import Handler, log_access
from node.web.requests import optional_principal

routes = web.RouteTableDef()

_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
#: Not an HTTP status: what nginx logs when the client went away before the answer.
CLIENT_CLOSED = 499


def route_template(request: web.Request) -> str:
    """The matched route's template (``/users/{name}``), or ``unmatched``."""
    resource = request.match_info.route.resource
    return "unmatched" if resource is None else resource.canonical


@web.middleware
async def request_metrics_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Count and time each request by method, route template and final status,
    and write its access-log line (one clock for both).

    It goes first in the list, so it sees the status the problem middleware chose.
    The access log records the status of a returned response, and 500 for
    anything raised (an ``HTTPException`` included), as it always has.
    """
    metrics = request.app[metrics_key].requests
    started = time.perf_counter()
    status = 500
    logged_status = 500
    metrics.in_flight += 1
    try:
        response = await handler(request)
        status = logged_status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        metrics.in_flight -= 1
        elapsed = time.perf_counter() - started
        metrics.observe(request.method, route_template(request), status, elapsed)
        log_access(request, logged_status, elapsed)


def is_direct_loopback(request: web.Request) -> bool:
    """True for a loopback peer that is not a proxy relaying someone else."""
    if any(header in request.headers for header in _PROXY_HEADERS):
        return False
    try:
        return request.remote is not None and ipaddress.ip_address(request.remote).is_loopback
    except ValueError:
        return False  # a Unix socket peer, or anything else without an address


async def require_metrics_access(request: web.Request) -> None:
    """Raise unless the caller is local (see the module doc) or holds an admin token."""
    if is_direct_loopback(request):
        return
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized(
            "metrics are served to loopback clients, or with an admin bearer token"
        )
    if not (principal.allows("admin") and principal.member.is_admin):
        raise Forbidden("metrics need a token with the 'admin' scope")


def _build_info() -> MetricFamily:
    try:
        version = metadata.version("kula")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return MetricFamily("kula_build_info", "gauge", "The running Kula version.").add(
        1, version=version
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    await require_metrics_access(request)
    state = request.app[metrics_key]
    moment = time.monotonic()
    if state.figures is None or moment - state.figures_read_at >= state.figures_ttl:
        async with request.app[storage_key].read() as session:
            state.figures = await read_node_figures(session)
        state.figures_read_at = moment
    families = [
        _build_info(),
        *state.requests.families(),
        *figure_families(state.figures, utc_now()),
    ]
    return web.Response(
        body=render(families).encode("utf-8"), headers={"Content-Type": CONTENT_TYPE}
    )
