"""The one application factory, used by ``kula serve``, the tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from node.bootstrap import ensure_node_actors
from node.federation.http import FederationHttp
from node.metrics import NodeMetrics
from node.ratelimit import RateLimiter
from node.services.context import NodeContext
from node.settings import Settings
from node.storage import create_storage
from node.typedefs import (
    auth_limiter_key,
    context_key,
    metrics_key,
    settings_key,
    storage_key,
    write_limiter_key,
)
from node.web import (
    activitypub,
    api_exchanges,
    api_federation,
    api_follows,
    api_images,
    api_listings,
    api_members,
    api_moderation,
    api_pools,
    api_questions,
    api_reputation,
    api_search,
    api_vouches,
    health,
    inbox,
    media,
    metrics,
    openapi,
    social_objects,
    wellknown,
)
from node.web.metrics import request_metrics_middleware
from node.web.pages import add_page_routes
from node.web.pages.forms import csrf_middleware
from node.web.problems import problem_middleware
from node.workers.runner import run_background_workers

# Multipart image uploads are the largest bodies; JSON endpoints check their own lower limit.
_UPLOAD_MARGIN = 64 * 1024


def create_app(settings: Settings, *, run_workers: bool | None = None) -> web.Application:
    app = web.Application(
        middlewares=[
            request_metrics_middleware,  # also writes the access log
            problem_middleware,  # also adds the security headers
            csrf_middleware,
        ],
        client_max_size=max(settings.max_body_bytes, settings.max_image_bytes) + _UPLOAD_MARGIN,
    )
    storage = create_storage(settings)
    context = NodeContext(settings=settings, storage=storage)
    app[settings_key] = settings
    app[storage_key] = storage
    app[context_key] = context
    app[auth_limiter_key] = RateLimiter(settings.rate_limit_auth_per_minute)
    app[write_limiter_key] = RateLimiter(settings.rate_limit_write_per_minute)
    app[metrics_key] = NodeMetrics()

    async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
        await storage.open()
        await ensure_node_actors(context)
        async with FederationHttp(settings) as http:
            context.http = http
            yield
            context.http = None
        await storage.close()

    app.cleanup_ctx.append(storage_ctx)
    if settings.run_workers if run_workers is None else run_workers:

        async def workers_ctx(app: web.Application) -> AsyncIterator[None]:
            async with run_background_workers(context):
                yield

        app.cleanup_ctx.append(workers_ctx)

    # Pages first: fixed paths such as /listings/new precede /listings/{listing_id}.
    add_page_routes(app)
    for module in (
        health,
        metrics,
        wellknown,
        activitypub,
        inbox,
        media,
        openapi,
        api_members,
        api_listings,
        api_images,
        api_search,
        api_follows,
        api_federation,
        api_exchanges,
        api_reputation,
        api_pools,
        api_vouches,
        api_questions,
        api_moderation,
        social_objects,
    ):
        app.router.add_routes(module.routes)
    return app
