"""Operations of community settings and of reports to the operators."""

from __future__ import annotations

from node.openapi_paths import Endpoint, query_param

_COMMUNITY = "/api/v1/admin/community"
_REPORTS = "/api/v1/admin/reports"


def moderation_endpoints() -> list[Endpoint]:
    """Community settings an operator changes without editing files; members'
    reports, and what operators do about them."""
    return [
        Endpoint("GET", _COMMUNITY, "getCommunity",
                 "The community's name, description, registration mode, rules and contact.",
                 "admin", scope="admin", result="api-community-settings"),
        Endpoint("PATCH", _COMMUNITY, "updateCommunity",
                 "Change community settings; a new name or description is federated to the "
                 "community's followers.", "admin", scope="admin",
                 body="api-community-update-request", result="api-community-settings"),
        Endpoint("POST", "/api/v1/reports", "fileReport",
                 "Report a listing, attestation, member or question to the operators.",
                 "moderation", scope="write", body="api-report-request", status=201,
                 result="api-report", extra_errors=(404, 409)),
        Endpoint("GET", _REPORTS, "listReports", "Reports, newest first.", "admin",
                 scope="admin", result="api-report-list", extra_errors=(422,),
                 query=(query_param(
                     "state", {"enum": ["open", "resolved", "dismissed", "all"],
                               "default": "open"},
                     "Which reports: open ones (the default), closed ones, or all.",
                 ),)),
        Endpoint("POST", _REPORTS + "/{report_id}/resolve", "actOnReport",
                 "Dismiss, resolve or act on a report: hide or remove a local listing, hide a "
                 "question, suspend a local member, block a remote host, or forward the report "
                 "to the remote node as a Flag.", "admin", scope="admin",
                 body="api-report-resolve-request", result="api-report", extra_errors=(409,)),
    ]
