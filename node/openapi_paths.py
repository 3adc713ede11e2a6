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

JSON = "application/json"
PROBLEM_RESPONSE_PREFIX = "#/components/responses/problem-"
_PATH_PARAMETER = re.compile(r"{([a-z_]+)}")
_PATH_PARAMETER_DOCS = {
    "username": "A member's username.",
    "listing_id": "A listing id, as returned when the listing was created.",
    "image_id": "An image id, as returned by the upload.",
    "token_id": "A token id, as listed by GET /api/v1/tokens.",
    "invite_id": "An invite id, as listed by GET /api/v1/admin/invites.",
    "follow_id": "A follow id, as listed by GET /api/v1/following or /api/v1/followers.",
    "host": "A host name, with a port if it is not the default one.",
    "attestation_id": "The last part of an attestation's IRI.",
    "exchange_id": "An exchange id, as returned by POST /api/v1/exchanges or listed by GET.",
    "vouch_id": "The last part of one of your vouches' IRI (its id).",
    "question_id": "A question id, as listed by GET /api/v1/listings/{listing_id}/questions.",
    "pledge_id": "A pledge id, as returned by POST /api/v1/listings/{listing_id}/pledges.",
    "report_id": "A report id, as listed by GET /api/v1/admin/reports.",
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


def query_param(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict:
    """A Parameter Object for the query string."""
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
