"""The client API's own operations: accounts, administration, listings,
images and search (federation has its own table in :mod:`node.openapi_federation`)."""

from __future__ import annotations

from node.openapi_paths import Endpoint
from node.openapi_paths import query_param as _q
from node.services.search import MAX_LIMIT, SORTS
from node.web.requests import SESSION_COOKIE
from protocol.vocab import ExchangeMode, ListingStatus, Purpose

_CURSOR = _q("cursor", {"type": "string", "minLength": 1}, "next_cursor of the previous page.")
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
    _q("q", {"type": "string", "maxLength": 200}, "Free text."),
    _q("purpose", {"enum": [p.value for p in Purpose]}, "Offers or requests."),
    _q("mode", {"enum": [m.value for m in ExchangeMode]}, "The kind of exchange."),
    _q("category", {"type": "string", "minLength": 1, "maxLength": 40}, "A category."),
    _q(
        "status",
        {"enum": [s.value for s in ListingStatus] + ["any"], "default": "available"},
        "Listing status; `any` for every status.",
    ),
    _q("min_price", {"type": "number", "minimum": 0, "maximum": 1e12}, "Lowest price."),
    _q("max_price", {"type": "number", "minimum": 0, "maximum": 1e12}, "Highest price."),
    _q("currency", {"type": "string", "pattern": "^[A-Za-z]{3}$"}, "ISO 4217 code."),
    _q("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude; needs lon."),
    _q("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude; needs lat."),
    _q(
        "radius_km",
        {"type": "number", "minimum": 0.01, "maximum": 20000},
        "Only listings this close to lat/lon.",
    ),
    _q(
        "sort",
        {"enum": list(SORTS)},
        "Order; defaults to relevance with q, else recent. distance needs lat and lon.",
    ),
    _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}, "Size."),
    _CURSOR,
)
_SESSION_COOKIE_HEADER = {
    "Set-Cookie": {
        "description": f"The session token as the HttpOnly cookie `{SESSION_COOKIE}`.",
        "schema": {"type": "string"},
    }
}
_ATTACHMENT = {
    "Content-Disposition": {
        "description": "`attachment` with a file name such as `kula-alice-2025-01-31.json`.",
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
        Endpoint("GET", "/api/v1/me/export", "exportMe",
                 "Download your data: profile, listings, exchanges with their messages, "
                 "attestations given and received, follows and notifications.", "accounts",
                 scope="read", result="api-export", headers=_ATTACHMENT),
        Endpoint("POST", "/api/v1/me/password", "changePassword", "Change your password.",
                 "accounts", scope="write", body="api-password-change-request", status=204),
        Endpoint("POST", "/api/v1/me/move", "moveAccount",
                 "Move to another account (here or elsewhere) that lists this one as an alias.",
                 "accounts", scope="write", body="api-move-request", result="api-moved",
                 extra_errors=(403, 409, 502, 504)),
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
        Endpoint("GET", listing + "/replies", "listListingReplies",
                 "Replies to a listing from anywhere in the fediverse.", "listings",
                 result="api-reply-list", extra_errors=(410,)),
        Endpoint("POST", "/api/v1/images", "uploadImage", "Upload an image.", "images",
                 scope="write", body=_UPLOAD, status=201, result="api-image",
                 query=(_q("description", {"type": "string"}, "Alt text, for raw uploads."),)),
        Endpoint("GET", "/api/v1/images/{image_id}", "getImage", "One of your images.",
                 "images", scope="read", result="api-image"),
        Endpoint("DELETE", "/api/v1/images/{image_id}", "deleteImage",
                 "Delete one of your images.", "images", scope="write", status=204,
                 extra_errors=(409,)),
        Endpoint("GET", "/api/v1/search", "search", "Search listings.", "search",
                 result="api-listing-page", query=_SEARCH, extra_errors=(422,)),
    ]
