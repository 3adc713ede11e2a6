"""Client API: community settings, and reports with what operators do about them."""

from __future__ import annotations

from aiohttp import web

from node.errors import ValidationFailed
from node.services import community, moderation, reports
from node.typedefs import context_key
from node.web.requests import read_json, require

routes = web.RouteTableDef()


@routes.get("/api/v1/admin/community")
async def show_community(request: web.Request) -> web.Response:
    await require(request, "admin")
    profile = await community.community_profile(request.app[context_key])
    return web.json_response(profile.as_json())


@routes.patch("/api/v1/admin/community")
async def update_community(request: web.Request) -> web.Response:
    await require(request, "admin")
    body = await read_json(request, "api-community-update-request")
    profile = await community.update_community(request.app[context_key], body)
    return web.json_response(profile.as_json())


@routes.post("/api/v1/reports")
async def file_report(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-report-request")
    ctx = request.app[context_key]
    report = await reports.file_report(
        ctx, principal.member, kind=body["kind"], target=body["target"], reason=body["reason"],
        comment=body.get("comment", ""),
    )
    [view] = await moderation.view_reports(ctx, [report])
    return web.json_response(view.as_json(), status=201)


@routes.get("/api/v1/admin/reports")
async def list_reports(request: web.Request) -> web.Response:
    await require(request, "admin")
    state = request.query.get("state", "open")
    if state not in (*reports.STATES, "all"):
        raise ValidationFailed(
            "state must be open, resolved, dismissed or all",
            errors=[{"pointer": "/state", "reason": "enum"}],
        )
    ctx = request.app[context_key]
    found = await reports.list_reports(ctx, None if state == "all" else state)
    views = await moderation.view_reports(ctx, found)
    return web.json_response({"items": [view.as_json() for view in views]})


@routes.post("/api/v1/admin/reports/{report_id}/resolve")
async def act_on_report(request: web.Request) -> web.Response:
    principal = await require(request, "admin")
    body = await read_json(request, "api-report-resolve-request")
    view = await moderation.act_on_report(
        request.app[context_key], principal.member, request.match_info["report_id"],
        body["action"], body.get("note", ""),
    )
    return web.json_response(view.as_json())
