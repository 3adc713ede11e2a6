"""Operator pages: reports, with what they are about and the actions that fit."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from node.services import moderation, reports
from node.services.context import NodeContext
from node.typedefs import context_key
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_admin

routes = web.RouteTableDef()
TABS = ("open", "resolved", "dismissed", "all")


def kind_labels() -> dict[str, str]:
    return {"listing": _("Listing"), "attestation": _("Rating"), "member": _("Member"),
            "question": _("Question")}


def reason_labels() -> dict[str, str]:
    return {"spam": _("Spam"), "fraud": _("Fraud or a scam"),
            "prohibited": _("Not allowed here"), "abuse": _("Abuse or harassment"),
            "other": _("Something else")}


def action_label(view: moderation.ReportView, action: str) -> str:
    host = urlsplit(view.report.target_actor_iri).netloc
    who = view.report.target_actor_iri.rsplit("/", 1)[-1]
    return {
        "dismiss": _("Dismiss"), "resolve": _("Mark resolved"),
        "hide": _("Hide question") if view.report.kind == "question" else _("Hide listing"),
        "remove": _("Remove listing"), "suspend": _("Suspend %(name)s", name=who),
        "block": _("Block %(host)s", host=host), "forward": _("Forward to %(host)s", host=host),
    }[action]


def reporter_label(ctx: NodeContext, iri: str) -> str:
    prefix = f"{ctx.urls.base}/users/"
    if iri.startswith(prefix):
        return "@" + iri[len(prefix):]
    return _("the moderators of %(host)s", host=urlsplit(iri).netloc)


@routes.get("/admin/reports")
@page
async def reports_page(request: web.Request) -> web.Response:
    await require_admin(request)
    ctx = request.app[context_key]
    tab = request.query.get("state", "open")
    tab = tab if tab in TABS else "open"
    found = await reports.list_reports(ctx, None if tab == "all" else tab)
    views = await moderation.view_reports(ctx, found)
    return await render(request, "admin/reports.html", {
        "views": views, "tab": tab, "kinds": kind_labels(), "reasons": reason_labels(),
        "action_label": action_label, "reporters": {
            view.report.id: reporter_label(ctx, view.report.reporter_iri) for view in views},
        "max_note": moderation.MAX_NOTE, "destructive": ("remove", "suspend", "block"),
        "target_states": {"withdrawn": _("withdrawn"), "hidden": _("hidden"),
                          "suspended": _("suspended"), "reserved": _("reserved"),
                          "completed": _("completed"), "expired": _("expired")},
    }, title=_("Reports"))


@routes.post("/admin/reports/{report_id}")
@page
async def act(request: web.Request) -> web.Response:
    principal = await require_admin(request)
    form = await read_form(request)
    action = text(form, "action", max_length=20)
    note = text(form, "note", max_length=moderation.MAX_NOTE)
    await moderation.act_on_report(
        request.app[context_key], principal.member, request.match_info["report_id"], action, note
    )
    messages = {
        "dismiss": _("The report is dismissed."), "resolve": _("The report is resolved."),
        "hide": _("Hidden, and the report resolved."),
        "remove": _("Removed, and the report resolved."),
        "suspend": _("The member is suspended, and the report resolved."),
        "block": _("The host is blocked, and the report resolved."),
        "forward": _("The report is on its way to the other node's moderators."),
    }
    raise redirect(request, "/admin/reports", messages[action])
