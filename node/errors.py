"""The node's error tree. Domain code raises these; only the problem middleware
turns them into HTTP responses (RFC 9457), and the CLI into messages.

Each class has a stable ``type_slug``: the problem ``type`` URI is
``<node>/problems/<slug>`` and is documented in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any


class NodeError(Exception):
    """Root of the node's errors."""

    status = 500
    type_slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        #: Extra members for the problem document (e.g. ``errors``, ``retry_after``).
        self.extensions = extensions


class ConfigError(NodeError):
    type_slug = "configuration"
    title = "Invalid configuration"


class BadRequest(NodeError):
    status = 400
    type_slug = "bad-request"
    title = "Bad request"


class ValidationFailed(NodeError):
    status = 422
    type_slug = "validation-failed"
    title = "The request body is not valid"


class Unauthorized(NodeError):
    status = 401
    type_slug = "unauthorized"
    title = "Authentication required"


class Forbidden(NodeError):
    status = 403
    type_slug = "forbidden"
    title = "Not allowed"


class NotFound(NodeError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Gone(NodeError):
    status = 410
    type_slug = "gone"
    title = "Gone"


class Conflict(NodeError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(NodeError):
    status = 413
    type_slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(NodeError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class RateLimited(NodeError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"


class StorageUnavailable(NodeError):
    """The database cannot serve the request right now (disk full, read-only,
    failing or unreachable): the operator's problem, not the client's. The
    answer is a 503 with ``Retry-After``, so clients and federating peers try
    again instead of giving up."""

    status = 503
    type_slug = "storage-unavailable"
    title = "Storage unavailable"
    #: Seconds a client is asked to wait before trying again.
    retry_after = 30

    def __init__(self, detail: str, **extensions: Any) -> None:
        extensions.setdefault("retry_after", self.retry_after)
        super().__init__(detail, **extensions)
