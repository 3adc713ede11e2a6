"""Operator pages: partner communities, host policies (block, allow, purge)
and the delivery queue (retry or drop what failed)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import NodeError, ValidationFailed
from node.services import federation_admin, operator, peers
from node.typedefs import context_key
from node.web.pages.accounts import form_messages
from node.web.pages.forms import read_form, text
from node.web.pages.site import gettext as _
from node.web.pages.site import page, redirect, render, require_admin

routes = web.RouteTableDef()
POLICIES = ("block", "allow")
MAX_HOST = 253
MAX_NOTE = 500


async def _federation_page(
    request: web.Request, *, peer_values: dict[str, str] | None = None,
    peer_errors: dict[str, str] | None = None, policy_values: dict[str, str] | None = None,
    policy_errors: dict[str, str] | None = None, status: int = 200,
) -> web.Response:
    ctx = request.app[context_key]
    return await render(request, "admin/federation.html", {
        "peers": await peers.list_peers(ctx),
        "policies": await federation_admin.list_policies(ctx),
        "federation": ctx.settings.federation,
        "policy_options": [("block", _("Block")), ("allow", _("Allow"))],
        "peer_values": peer_values or {"host": ""}, "peer_errors": peer_errors or {},
        "policy_values": policy_values or {"policy_host": "", "policy": "block",
                                           "policy_note": ""},
        "policy_errors": policy_errors or {},
    }, status=status, title=_("Federation"))


@routes.get("/admin/federation")
@page
async def federation_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _federation_page(request)


@routes.post("/admin/federation/peers")
@page
async def add_peer(request: web.Request) -> web.Response:
    await require_admin(request)
    form = await read_form(request)
    values = {"host": ""}
    try:
        values["host"] = text(form, "host", max_length=MAX_HOST)
        peer = await peers.add_peer(request.app[context_key], values["host"])
    except NodeError as exc:
        return await _federation_page(request, peer_values=values,
                                      peer_errors=form_messages(exc, "host"), status=exc.status)
    raise redirect(request, "/admin/federation",
                   _("Asked %(host)s to partner with this community.", host=peer.host))


@routes.post("/admin/federation/peers/{host}/remove")
@page
async def remove_peer(request: web.Request) -> web.Response:
    await require_admin(request)
    host = request.match_info["host"]
    await peers.remove_peer(request.app[context_key], host)
    raise redirect(request, "/admin/federation",
                   _("%(host)s is no longer a partner community.", host=host))


@routes.post("/admin/federation/policies")
@page
async def set_policy(request: web.Request) -> web.Response:
    await require_admin(request)
    form = await read_form(request)
    # Named apart from the partner form's "host", since both are on one page.
    values: dict[str, Any] = {"policy_host": "", "policy": "block", "policy_note": ""}
    try:
        for name, limit in (("policy_host", MAX_HOST), ("policy", 10), ("policy_note", MAX_NOTE)):
            values[name] = text(form, name, max_length=limit)
        if values["policy"] not in POLICIES:
            raise ValidationFailed(_("choose block or allow"),
                                   errors=[{"pointer": "/policy", "reason": "enum"}])
        record = await federation_admin.set_policy(
            request.app[context_key], values["policy_host"], values["policy"],
            values["policy_note"],
        )
    except NodeError as exc:
        return await _federation_page(request, policy_values=values,
                                      policy_errors=form_messages(exc, "policy_host"),
                                      status=exc.status)
    message = (_("%(host)s is blocked.", host=record.host) if record.policy == "block"
               else _("%(host)s is allowed.", host=record.host))
    raise redirect(request, "/admin/federation", message)


@routes.post("/admin/federation/policies/{host}/clear")
@page
async def clear_policy(request: web.Request) -> web.Response:
    await require_admin(request)
    host = request.match_info["host"]
    await federation_admin.clear_policy(request.app[context_key], host)
    raise redirect(request, "/admin/federation", _("The policy for %(host)s is removed.",
                                                   host=host))


@routes.post("/admin/federation/policies/{host}/purge")
@page
async def purge_host(request: web.Request) -> web.Response:
    await require_admin(request)
    host = request.match_info["host"]
    removed = await federation_admin.purge_host(request.app[context_key], host)
    raise redirect(request, "/admin/federation", _(
        "Removed what this node held from %(host)s (%(n)s listings).", host=host, n=removed))


@routes.get("/admin/queue")
@page
async def queue_page(request: web.Request) -> web.Response:
    await require_admin(request)
    ctx = request.app[context_key]
    which = request.query.get("state", "pending")
    if which not in operator.QUEUE_STATES:
        which = "pending"
    return await render(request, "admin/queue.html", {
        "status": await federation_admin.queue_status(ctx), "which": which,
        "deliveries": await operator.deliveries(ctx, which),
        "states": {"new": _("New"), "sending": _("Sending"), "retrying": _("Retrying"),
                   "failed": _("Failed"), "delivered": _("Delivered")},
    }, title=_("Delivery queue"))


async def _queue_action(request: web.Request, retry: bool) -> web.HTTPSeeOther:
    await require_admin(request)
    form = await read_form(request)
    host = text(form, "host", max_length=MAX_HOST) or None
    ctx = request.app[context_key]
    if retry:
        count = await federation_admin.retry_failed(ctx, host)
        message = _("%(n)s failed deliveries will be tried again.", n=count)
    else:
        count = await federation_admin.drop_failed(ctx, host)
        message = _("%(n)s failed deliveries were dropped.", n=count)
    return redirect(request, "/admin/queue?state=failed", message)


@routes.post("/admin/queue/retry")
@page
async def retry(request: web.Request) -> web.Response:
    raise await _queue_action(request, True)


@routes.post("/admin/queue/drop")
@page
async def drop(request: web.Request) -> web.Response:
    raise await _queue_action(request, False)
