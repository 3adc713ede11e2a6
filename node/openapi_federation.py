"""Operations that reach beyond this node: follows and lookups (which may fetch
from other servers), the operator's federation controls, and the discovery
and health endpoints other servers and monitors read."""

from __future__ import annotations

from typing import Any

from node.openapi_paths import Endpoint, query_param
from node.web.wellknown import JRD, NODEINFO_SCHEMA

#: What a handler that fetches a remote document can add: a malformed handle
#: (400), a blocked host (403), a missing or deleted remote document (404, 410),
#: a refused address (422), an upstream failure (502) or timeout (504).
REMOTE_ERRORS = (400, 403, 404, 410, 422, 502, 504)

_COUNT = {"type": "integer", "minimum": 0}


def follow_endpoints() -> list[Endpoint]:
    """Following actors here and elsewhere, and looking them up."""
    decide = "/api/v1/follow-requests/{follow_id}"
    return [
        Endpoint("POST", "/api/v1/follows", "follow", "Follow a member or community.",
                 "follows", scope="write", body="api-follow-request", status=201,
                 result="api-follow", extra_errors=(*REMOTE_ERRORS, 409)),
        Endpoint("GET", "/api/v1/following", "listFollowing", "Whom you follow.", "follows",
                 scope="read", result="api-follow-list"),
        Endpoint("GET", "/api/v1/followers", "listFollowers", "Who follows you.", "follows",
                 scope="read", result="api-follow-list"),
        Endpoint("DELETE", "/api/v1/follows/{follow_id}", "unfollow", "Stop following.",
                 "follows", scope="write", status=204),
        Endpoint("POST", decide + "/accept", "acceptFollowRequest", "Accept a follower.",
                 "follows", scope="write", result="api-follow", extra_errors=(409,)),
        Endpoint("POST", decide + "/reject", "rejectFollowRequest", "Refuse a follower.",
                 "follows", scope="write", result="api-follow", extra_errors=(409,)),
        Endpoint("GET", "/api/v1/lookup/actor", "lookupActor",
                 "An actor by handle (name@host) or IRI, fetched if remote.", "follows",
                 scope="read", result="api-remote-actor", extra_errors=REMOTE_ERRORS,
                 query=(query_param("resource", {"type": "string", "minLength": 1},
                                    "A handle or an actor IRI.", required=True),)),
        Endpoint("GET", "/api/v1/lookup/listing", "lookupListing",
                 "A listing by IRI, fetched and its proof checked if remote.", "listings",
                 scope="read", result="api-listing", extra_errors=REMOTE_ERRORS,
                 query=(query_param("iri", {"type": "string", "pattern": "^https?://"},
                                    "The listing's IRI.", required=True),)),
    ]


def federation_admin_endpoints() -> list[Endpoint]:
    """The operator's partner communities, host policies and delivery queue."""
    peers = "/api/v1/admin/peers"
    policies = "/api/v1/admin/federation/policies"
    queue = "/api/v1/admin/queue"

    def counted(name: str) -> dict[str, Any]:
        return {"type": "object", "required": [name], "properties": {name: _COUNT}}

    return [
        Endpoint("GET", peers, "listPeers", "Partner communities.", "admin", scope="admin",
                 result="api-peer-list"),
        Endpoint("POST", peers, "addPeer", "Partner with another Kula community.", "admin",
                 scope="admin", body="api-peer-request", status=201, result="api-peer",
                 extra_errors=REMOTE_ERRORS),
        Endpoint("DELETE", peers + "/{host}", "removePeer", "End a partnership.", "admin",
                 scope="admin", status=204, extra_errors=(422,)),
        Endpoint("GET", policies, "listHostPolicies", "Blocked and allowed hosts.", "admin",
                 scope="admin", result="api-host-policy-list"),
        Endpoint("PUT", policies + "/{host}", "setHostPolicy", "Block or allow a host.",
                 "admin", scope="admin", body="api-host-policy-request",
                 result="api-host-policy"),
        Endpoint("DELETE", policies + "/{host}", "clearHostPolicy", "Forget a host's policy.",
                 "admin", scope="admin", status=204, extra_errors=(422,)),
        Endpoint("POST", policies + "/{host}/purge", "purgeHost",
                 "Remove everything held from a host.", "admin", scope="admin",
                 result={"type": "object", "required": ["host", "listings_removed"],
                         "properties": {"host": {"type": "string"}, "listings_removed": _COUNT}},
                 extra_errors=(422,)),
        Endpoint("GET", queue, "getQueueStatus", "The delivery queue.", "admin", scope="admin",
                 result="api-queue-status"),
        Endpoint("POST", queue + "/retry", "retryDeliveries", "Retry failed deliveries.",
                 "admin", scope="admin", body="api-queue-action-request",
                 result=counted("requeued")),
        Endpoint("POST", queue + "/drop", "dropDeliveries", "Drop failed deliveries.", "admin",
                 scope="admin", body="api-queue-action-request", result=counted("dropped")),
    ]


_LINK = {"type": "object", "required": ["rel", "href"], "properties": {
    "rel": {"type": "string"}, "type": {"type": "string"}, "href": {"type": "string"}}}
_JRD = {
    "type": "object",
    "required": ["subject", "links"],
    "properties": {
        "subject": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "links": {"type": "array", "items": _LINK},
    },
}
_NODEINFO = {
    "type": "object",
    "required": ["version", "software", "protocols", "services", "openRegistrations", "usage",
                 "metadata"],
    "properties": {
        "version": {"const": "2.1"},
        "software": {"type": "object", "required": ["name", "version"]},
        "protocols": {"type": "array", "items": {"type": "string"}},
        "openRegistrations": {"type": "boolean"},
    },
}


def _status_body(*values: str) -> dict[str, Any]:
    return {"type": "object", "required": ["status"], "properties": {
        "status": {"enum": list(values)}, "detail": {"type": "string"}}}


def discovery_endpoints() -> list[Endpoint]:
    """WebFinger, NodeInfo and the health checks: read by other servers and monitors."""
    resource = query_param("resource", {"type": "string", "minLength": 1},
                           "acct:user@host or an actor IRI (RFC 7033 §4.1).", required=True)
    unavailable = {"description": "The database does not answer.",
                   "content": {"application/json": {"schema": _status_body("unavailable")}}}
    return [
        Endpoint("GET", "/.well-known/webfinger", "webfinger", "WebFinger (RFC 7033).",
                 "discovery", result=_JRD, result_type=JRD, query=(resource,),
                 extra_errors=(400, 404)),
        Endpoint("GET", "/.well-known/nodeinfo", "nodeinfoLinks", "Where NodeInfo is.",
                 "discovery", result={"type": "object", "required": ["links"],
                                      "properties": {"links": {"type": "array", "items": _LINK}}}),
        Endpoint("GET", "/nodeinfo/2.1", "nodeinfo",
                 f"NodeInfo 2.1; Content-Type carries profile=\"{NODEINFO_SCHEMA}#\".",
                 "discovery", result=_NODEINFO),
        Endpoint("GET", "/healthz", "healthz", "Liveness.", "health", result=_status_body("ok")),
        Endpoint("GET", "/readyz", "readyz", "Readiness: the database answers.", "health",
                 result=_status_body("ready"), responses={"503": unavailable}),
    ]
