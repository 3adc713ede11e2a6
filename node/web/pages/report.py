"""Reporting a listing, rating, member or question to the community's operators."""

from __future__ import annotations

from aiohttp import web

from node.errors import Conflict, NodeError
from node.services import reports
from node.services.tokens import Principal
from node.typedefs import context_key
from node.web.pages.accounts import form_messages
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_member
from node.web.requests import limit_write

routes = web.RouteTableDef()


def reason_options() -> list[tuple[str, str]]:
    return [("", _("Choose a reason")), ("spam", _("Spam or advertising")),
            ("fraud", _("Fraud or a scam")),
            ("prohibited", _("Something not allowed in this community")),
            ("abuse", _("Abuse, harassment or threats")), ("other", _("Something else"))]


def headings() -> dict[str, str]:
    return {"listing": _("Report a listing"), "attestation": _("Report a rating"),
            "member": _("Report a member"), "question": _("Report a question")}


async def _report_page(
    request: web.Request, kind: str, target: str, values: dict[str, str],
    errors: dict[str, str], status: int = 200,
) -> web.Response:
    found = await reports.describe_target(request.app[context_key], kind, target)
    return await render(request, "report.html", {
        "kind": kind, "target": found, "values": values, "errors": errors,
        "reasons": reason_options(), "max_comment": reports.MAX_COMMENT,
        "heading": headings()[kind],
    }, status=status, title=headings()[kind])


@routes.get("/report")
@page
async def report_form(request: web.Request) -> web.Response:
    await require_member(request)
    kind = request.query.get("kind", "")
    target = request.query.get("target", "")[: reports.MAX_TARGET]
    return await _report_page(request, kind, target, {"reason": "", "comment": ""}, {})


def _back(request: web.Request, link: str) -> str:
    """Back to what was reported, when it is a page of this node; else home."""
    base = request.app[context_key].urls.base
    return link.removeprefix(base) if link.startswith(base + "/") else "/"


@routes.post("/report")
@page
async def file_report(request: web.Request) -> web.Response:
    principal: Principal = await require_member(request)
    form = await read_form(request)
    kind = text(form, "kind", max_length=20)
    target = text(form, "target", max_length=reports.MAX_TARGET)
    values = {"reason": "", "comment": ""}
    ctx = request.app[context_key]
    try:
        limit_write(request, principal)
        values = {"reason": text(form, "reason", max_length=20),
                  "comment": text(form, "comment", max_length=reports.MAX_COMMENT)}
        await reports.file_report(ctx, principal.member, kind=kind, target=target,
                                  reason=values["reason"], comment=values["comment"])
    except Conflict as exc:
        return await _report_page(request, kind, target, values, {"_form": exc.detail},
                                  exc.status)
    except NodeError as exc:
        if exc.status == 404:
            raise
        return await _report_page(request, kind, target, values, form_messages(exc),
                                  exc.status)
    found = await reports.describe_target(ctx, kind, target)
    raise redirect(request, _back(request, found.link),
                   _("Thank you. The operators will look at your report."))
