"""Builds the OpenAPI 3.1 document served at ``/api/v1/openapi.json``.

The operations are listed in :mod:`node.openapi_endpoints` and
:mod:`node.openapi_federation` and rendered by :mod:`node.openapi_paths`; the
embedded JSON Schemas come from :mod:`node.openapi_schemas`. This module adds
what is shared: security schemes, the problem responses and the list of
problem types.
"""

from __future__ import annotations

from typing import Any

from node.errors import NodeError
from node.federation.fetch import FetchError
from node.openapi_endpoints import api_endpoints
from node.openapi_exchanges import exchange_endpoints
from node.openapi_federation import (
    REMOTE_ERRORS,
    discovery_endpoints,
    federation_admin_endpoints,
    follow_endpoints,
)
from node.openapi_moderation import moderation_endpoints
from node.openapi_paths import PROBLEM_RESPONSE_PREFIX, paths
from node.openapi_pools import pool_endpoints
from node.openapi_schemas import component_ref, component_schemas
from node.openapi_social import social_endpoints
from node.web.problems import HTTP_SLUGS, PROBLEM_BASE, PROBLEM_CONTENT_TYPE, PROTOCOL_STATUS
from node.web.requests import SESSION_COOKIE

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
#: The problem type the middleware gives an HTTP error it has no slug for.
GENERIC_HTTP_SLUG = "http-error"
#: Problem types whose status depends on the case, beyond their class's default.
_VARIABLE_STATUS = {FetchError.type_slug: REMOTE_ERRORS}


def _node_errors() -> list[type[NodeError]]:
    found: list[type[NodeError]] = [NodeError]
    for kind in found:
        found.extend(kind.__subclasses__())
    return found


def problem_types() -> list[dict[str, Any]]:
    """Every problem ``type`` the node can answer with: slug, URI, status and title.

    Read from the error classes and the problem middleware's tables, so a new
    error class is documented without touching this module.
    """
    found: dict[str, dict[str, Any]] = {}

    def add(slug: str, status: int | None, title: str) -> None:
        entry = {"slug": slug, "type": PROBLEM_BASE + slug, "title": title}
        found.setdefault(slug, entry if status is None else {**entry, "status": status})

    for error in _node_errors():
        add(error.type_slug, error.status, error.title)
    for _, status, slug in PROTOCOL_STATUS:
        add(slug, status, slug.replace("-", " ").capitalize())
    for status, slug in HTTP_SLUGS.items():
        add(slug, status, slug.replace("-", " ").capitalize())
    add(GENERIC_HTTP_SLUG, None, "Any other HTTP error; status says which")
    for slug, statuses in _VARIABLE_STATUS.items():
        found[slug]["statuses"] = sorted({found[slug]["status"], *statuses})
    return sorted(found.values(), key=lambda entry: (entry.get("status", 0), entry["slug"]))


def problem_responses(statuses: set[int]) -> dict[str, Any]:
    """``components/responses``: one RFC 9457 response per error status."""
    types = problem_types()
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        slugs = [entry["slug"] for entry in types if status in entry.get("statuses", ())]
        slugs += [entry["slug"] for entry in types if entry.get("status") == status]
        response: dict[str, Any] = {
            "description": f"Problem details; type is one of: {', '.join(dict.fromkeys(slugs))}.",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": component_ref("problem")}}},
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 0},
                }
            }
        responses[f"problem-{status}"] = response
    return responses


SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/sessions or POST /api/v1/tokens. Scopes "
        "nest: `read` < `write` < `admin`; each operation names the least it needs.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The session token as the cookie set by POST /api/v1/sessions; "
        "used only when no Authorization header is sent.",
    },
}

def _statuses(entry: dict[str, Any]) -> str:
    return ", ".join(map(str, entry.get("statuses", [entry.get("status", "any")])))


def _description() -> str:
    rows = "\n".join(
        f"| `{entry['slug']}` | {_statuses(entry)} | {entry['title']} |"
        for entry in problem_types()
    )
    return (
        "Kula's client API. Bodies are JSON; errors are RFC 9457 problem details "
        f"(`{PROBLEM_CONTENT_TYPE}`) whose `type` is `{PROBLEM_BASE}<slug>`. Schema "
        "violations are listed in `errors` as JSON pointers. Every GET also answers HEAD.\n\n"
        "| slug | status | title |\n| --- | --- | --- |\n" + rows
    )


def build_openapi(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for a node at ``base_url``; needs no network."""
    endpoints = (
        api_endpoints() + follow_endpoints() + federation_admin_endpoints()
        + exchange_endpoints() + pool_endpoints() + social_endpoints() + moderation_endpoints()
        + discovery_endpoints()
    )
    document_paths = paths(endpoints)
    used = {
        int(response["$ref"].removeprefix(PROBLEM_RESPONSE_PREFIX))
        for path in document_paths.values()
        for op in path.values()
        for response in op["responses"].values()
        if "$ref" in response
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Kula node API",
            "version": API_VERSION,
            "description": _description(),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "tags": [
            {"name": "accounts", "description": "Sign-up, sessions, your account and tokens."},
            {"name": "listings", "description": "Offers and requests."},
            {"name": "images", "description": "Image uploads for listings."},
            {"name": "search", "description": "Finding listings."},
            {"name": "follows", "description": "Following actors here and on other nodes."},
            {"name": "admin", "description": "The operator's members, invites and federation."},
            {"name": "moderation", "description": "Reporting content to the operators."},
            {"name": "meta", "description": "This document."},
            {"name": "discovery", "description": "WebFinger and NodeInfo, for other servers."},
            {"name": "health", "description": "Liveness and readiness for monitors."},
        ],
        "paths": document_paths,
        "components": {
            "schemas": component_schemas(),
            "responses": problem_responses(used),
            "securitySchemes": SECURITY_SCHEMES,
        },
        "x-problem-types": problem_types(),
    }
