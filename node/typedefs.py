"""Every piece of shared application state, under one typed key each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from node.settings import Settings
from node.storage.base import Storage

if TYPE_CHECKING:
    from node.metrics import NodeMetrics
    from node.ratelimit import RateLimiter
    from node.services.context import NodeContext

settings_key = web.AppKey("settings", Settings)
storage_key = web.AppKey("storage", Storage)
context_key: web.AppKey[NodeContext] = web.AppKey("context")
auth_limiter_key: web.AppKey[RateLimiter] = web.AppKey("auth_limiter")
write_limiter_key: web.AppKey[RateLimiter] = web.AppKey("write_limiter")
metrics_key: web.AppKey[NodeMetrics] = web.AppKey("metrics")
