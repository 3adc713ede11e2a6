"""The operations of the OpenAPI document, one ``Endpoint`` per route.

The error statuses an operation documents follow from what its handler does:
an authenticated handler can answer 401 and 403, a write also 429 (the write
rate limit), a JSON body 400, 413, 415 and 422, a path parameter 404. Statuses
beyond those (409, 410 ...) are listed per endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from node.openapi_schemas import component_ref
from node.services.search import MAX_LIMIT, SORTS
from node.web.requests import SESSION_COOKIE
from protocol.vocab import ExchangeMode, ListingStatus, Purpose

JSON = "application/json"
PROBLEM_RESPONSE_PREFIX = "#/components/responses/problem-"
_PATH_PARAMETER = re.compile(r"{([a-z_]+)}")
_PATH_PARAMETER_DOCS = {
    "username": "A member's username.",
    "listing_id": "A listing id, as returned when the listing was created.",
    "image_id": "An image id, as returned by the upload.",
    "token_id": "A token id, as listed by GET /api/v1/tokens.",
    "invite_id": "An invite id, as listed by GET /api/v1/admin/invites.",
}


@dataclass(frozen=True)
class Endpoint:
    """One route: what it takes, what it answers and who may call it."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    #: Least token scope needed, or None for a public endpoint.
    scope: str | None = None
    #: Request body: a component schema name (sent as JSON), or a full requestBody object.
    body: str | dict[str, Any] | None = None
    status: int = 200
    #: Success body: a component schema name, an inline schema, or None for no content.
    result: str | dict[str, Any] | None = None
    result_type: str = JSON
    extra_errors: tuple[int, ...] = ()
    query: tuple[dict[str, Any], ...] = ()
    headers: dict[str, Any] = field(default_factory=dict)
    #: Other responses written out in full (e.g. /readyz's 503, which is not a problem).
    responses: dict[str, Any] = field(default_factory=dict)


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description, **extra}


def _schema(value: str | dict[str, Any]) -> dict[str, Any]:
    return {"$ref": component_ref(value)} if isinstance(value, str) else value


def error_statuses(endpoint: Endpoint) -> set[int]:
    """Every error status the endpoint's handler can answer with."""
    statuses = set(endpoint.extra_errors)
    if endpoint.scope is not None:
        statuses |= {401, 403}
        if endpoint.scope != "read":
            statuses.add(429)
    if endpoint.body is not None:
        statuses |= {400, 413, 415, 422}
    if _PATH_PARAMETER.search(endpoint.path):
        statuses.add(404)
    return statuses


def operation(endpoint: Endpoint) -> dict[str, Any]:
    """The OpenAPI Operation Object for ``endpoint``."""
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": _PATH_PARAMETER_DOCS[name],
        }
        for name in _PATH_PARAMETER.findall(endpoint.path)
    ] + list(endpoint.query)
    success: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.result is not None:
        success["content"] = {endpoint.result_type: {"schema": _schema(endpoint.result)}}
    if endpoint.headers:
        success["headers"] = endpoint.headers
    responses: dict[str, Any] = {str(endpoint.status): success, **endpoint.responses}
    for status in sorted(error_statuses(endpoint)):
        responses[str(status)] = {"$ref": f"{PROBLEM_RESPONSE_PREFIX}{status}"}
    document: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "security": [],
        "responses": dict(sorted(responses.items())),
    }
    if endpoint.scope is not None:
        document["security"] = [
            {"bearerAuth": [endpoint.scope]},
            {"sessionCookie": [endpoint.scope]},
        ]
        document["description"] = f"Needs a token with the `{endpoint.scope}` scope or higher."
    if parameters:
        document["parameters"] = parameters
    if isinstance(endpoint.body, str):
        document["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _schema(endpoint.body)}},
        }
    elif endpoint.body is not None:
        document["requestBody"] = endpoint.body
    return document


def paths(endpoints: list[Endpoint]) -> dict[str, dict[str, Any]]:
    """The Paths Object: operations grouped by path, in the order given."""
    grouped: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        grouped.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation(endpoint)
    return grouped


_CURSOR = _query("cursor", {"type": "string", "minLength": 1}, "next_cursor of the previous page.")
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
_BINARY = {"type": "string", "format": "binary"}
_UPLOAD = {
    "required": True,
    "description": "A multipart form with a `file` part (and optionally `description`), "
    "or the raw image with the description in the query. The image is re-encoded.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": _BINARY, "description": {"type": "string"}},
            }
        },
        **{media_type: {"schema": _BINARY} for media_type in _IMAGE_TYPES},
    },
}
_SEARCH = (
    _query("q", {"type": "string", "maxLength": 200}, "Free text."),
    _query("purpose", {"enum": [p.value for p in Purpose]}, "Offers or requests."),
    _query("mode", {"enum": [m.value for m in ExchangeMode]}, "The kind of exchange."),
    _query("category", {"type": "string", "minLength": 1, "maxLength": 40}, "A category."),
    _query(
        "status",
        {"enum": [s.value for s in ListingStatus] + ["any"], "default": "available"},
        "Listing status; `any` for every status.",
    ),
    _query("min_price", {"type": "number", "minimum": 0, "maximum": 1e12}, "Lowest price."),
    _query("max_price", {"type": "number", "minimum": 0, "maximum": 1e12}, "Highest price."),
    _query("currency", {"type": "string", "pattern": "^[A-Za-z]{3}$"}, "ISO 4217 code."),
    _query("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude; needs lon."),
    _query("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude; needs lat."),
    _query(
        "radius_km",
        {"type": "number", "minimum": 0.01, "maximum": 20000},
        "Only listings this close to lat/lon.",
    ),
    _query(
        "sort",
        {"enum": list(SORTS)},
        "Order; defaults to relevance with q, else recent. distance needs lat and lon.",
    ),
    _query(
        "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}, "Page size."
    ),
    _CURSOR,
)
_SESSION_COOKIE_HEADER = {
    "Set-Cookie": {
        "description": f"The session token as the HttpOnly cookie `{SESSION_COOKIE}`.",
        "schema": {"type": "string"},
    }
}
_LOCATION = {"Location": {"description": "The new listing.", "schema": {"type": "string"}}}


def api_endpoints() -> list[Endpoint]:
    """Every ``/api/v1`` route the node serves."""
    members = "/api/v1/members"
    listing = "/api/v1/listings/{listing_id}"
    suspension = "/api/v1/admin/members/{username}/suspension"
    return [
        Endpoint("GET", "/api/v1/openapi.json", "getOpenApi", "This document.", "meta",
                 result={"type": "object", "required": ["openapi", "paths"]}),
        Endpoint("POST", members, "register", "Sign up.", "accounts",
                 body="api-register-request", status=201, result="api-member",
                 extra_errors=(403, 409, 429)),
        Endpoint("GET", members + "/{username}", "getMember", "A member's public profile.",
                 "accounts", result="api-member"),
        Endpoint("GET", members + "/{username}/listings", "listMemberListings",
                 "A member's listings, newest first.", "listings", result="api-listing-page",
                 query=(_CURSOR,), extra_errors=(422,)),
        Endpoint("POST", "/api/v1/sessions", "login", "Log in; returns a session token.",
                 "accounts", body="api-login-request", status=201, result="api-session",
                 extra_errors=(401, 403, 429), headers=_SESSION_COOKIE_HEADER),
        Endpoint("DELETE", "/api/v1/sessions/current", "logout",
                 "Log out: revoke the token used for this request.", "accounts", scope="read",
                 status=204),
        Endpoint("GET", "/api/v1/me", "getMe", "Your own account.", "accounts", scope="read",
                 result="api-member"),
        Endpoint("PATCH", "/api/v1/me", "updateMe", "Change your profile.", "accounts",
                 scope="write", body="api-profile-update-request", result="api-member"),
        Endpoint("POST", "/api/v1/me/password", "changePassword", "Change your password.",
                 "accounts", scope="write", body="api-password-change-request", status=204),
        Endpoint("GET", "/api/v1/tokens", "listTokens", "Your API and session tokens.",
                 "accounts", scope="read", result="api-token-list"),
        Endpoint("POST", "/api/v1/tokens", "createToken", "Create an API token.", "accounts",
                 scope="write", body="api-token-create-request", status=201, result="api-token"),
        Endpoint("DELETE", "/api/v1/tokens/{token_id}", "revokeToken", "Revoke a token.",
                 "accounts", scope="write", status=204),
        Endpoint("GET", "/api/v1/admin/invites", "listInvites", "Every invite.", "admin",
                 scope="admin", result="api-invite-list"),
        Endpoint("POST", "/api/v1/admin/invites", "createInvite", "Create an invite code.",
                 "admin", scope="admin", body="api-invite-create-request", status=201,
                 result="api-invite"),
        Endpoint("DELETE", "/api/v1/admin/invites/{invite_id}", "revokeInvite",
                 "Revoke an invite.", "admin", scope="admin", status=204),
        Endpoint("GET", "/api/v1/admin/members", "listMembers", "Every member.", "admin",
                 scope="admin", result="api-member-list"),
        Endpoint("POST", suspension, "suspendMember", "Suspend a member.", "admin",
                 scope="admin", result="api-member"),
        Endpoint("DELETE", suspension, "unsuspendMember", "Lift a suspension.", "admin",
                 scope="admin", result="api-member"),
        Endpoint("POST", "/api/v1/listings", "createListing", "Publish a listing.", "listings",
                 scope="write", body="api-listing-create-request", status=201,
                 result="api-listing", headers=_LOCATION),
        Endpoint("GET", listing, "getListing", "A listing.", "listings", result="api-listing",
                 extra_errors=(410,)),
        Endpoint("PATCH", listing, "updateListing", "Change your listing.", "listings",
                 scope="write", body="api-listing-update-request", result="api-listing",
                 extra_errors=(410,)),
        Endpoint("POST", listing + "/withdrawal", "withdrawListing", "Withdraw your listing.",
                 "listings", scope="write", result="api-listing", extra_errors=(409, 410)),
        Endpoint("DELETE", listing, "deleteListing", "Delete your listing.", "listings",
                 scope="write", status=204, extra_errors=(410,)),
        Endpoint("POST", "/api/v1/images", "uploadImage", "Upload an image.", "images",
                 scope="write", body=_UPLOAD, status=201, result="api-image",
                 query=(_query("description", {"type": "string"}, "Alt text, for raw uploads."),)),
        Endpoint("GET", "/api/v1/images/{image_id}", "getImage", "One of your images.",
                 "images", scope="read", result="api-image"),
        Endpoint("DELETE", "/api/v1/images/{image_id}", "deleteImage",
                 "Delete one of your images.", "images", scope="write", status=204,
                 extra_errors=(409,)),
        Endpoint("GET", "/api/v1/search", "search", "Search listings.", "search",
                 result="api-listing-page", query=_SEARCH, extra_errors=(422,)),
    ]
