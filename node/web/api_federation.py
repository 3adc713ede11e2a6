"""Operator API: partner communities, host policies and the delivery queue."""

from __future__ import annotations

from aiohttp import web

from node.services import federation_admin, peers
from node.typedefs import context_key
from node.web.requests import read_json, require

routes = web.RouteTableDef()


@routes.get("/api/v1/admin/peers")
async def list_peers(request: web.Request) -> web.Response:
    await require(request, "admin")
    found = await peers.list_peers(request.app[context_key])
    return web.json_response({"items": [
        {"host": peer.host, "group": peer.group_iri, "state": state,
         "created_at": peer.created_at}
        for peer, state in found
    ]})


@routes.post("/api/v1/admin/peers")
async def add_peer(request: web.Request) -> web.Response:
    await require(request, "admin")
    body = await read_json(request, "api-peer-request")
    peer = await peers.add_peer(request.app[context_key], body["host"])
    return web.json_response(
        {"host": peer.host, "group": peer.group_iri, "state": "pending",
         "created_at": peer.created_at},
        status=201,
    )


@routes.delete("/api/v1/admin/peers/{host}")
async def remove_peer(request: web.Request) -> web.Response:
    await require(request, "admin")
    await peers.remove_peer(request.app[context_key], request.match_info["host"])
    return web.Response(status=204)


@routes.get("/api/v1/admin/federation/policies")
async def list_policies(request: web.Request) -> web.Response:
    await require(request, "admin")
    found = await federation_admin.list_policies(request.app[context_key])
    return web.json_response({"items": [
        {"host": p.host, "policy": p.policy, "note": p.note, "created_at": p.created_at}
        for p in found
    ]})


@routes.put("/api/v1/admin/federation/policies/{host}")
async def set_policy(request: web.Request) -> web.Response:
    await require(request, "admin")
    body = await read_json(request, "api-host-policy-request")
    record = await federation_admin.set_policy(
        request.app[context_key], request.match_info["host"], body["policy"], body.get("note", "")
    )
    return web.json_response({"host": record.host, "policy": record.policy,
                              "note": record.note, "created_at": record.created_at})


@routes.delete("/api/v1/admin/federation/policies/{host}")
async def clear_policy(request: web.Request) -> web.Response:
    await require(request, "admin")
    await federation_admin.clear_policy(request.app[context_key], request.match_info["host"])
    return web.Response(status=204)


@routes.post("/api/v1/admin/federation/policies/{host}/purge")
async def purge_host(request: web.Request) -> web.Response:
    await require(request, "admin")
    removed = await federation_admin.purge_host(
        request.app[context_key], request.match_info["host"]
    )
    return web.json_response({"host": request.match_info["host"], "listings_removed": removed})


@routes.get("/api/v1/admin/queue")
async def queue_status(request: web.Request) -> web.Response:
    await require(request, "admin")
    status = await federation_admin.queue_status(request.app[context_key])
    return web.json_response(status.as_json())


@routes.post("/api/v1/admin/queue/retry")
async def retry_failed(request: web.Request) -> web.Response:
    await require(request, "admin")
    body = await read_json(request, "api-queue-action-request")
    count = await federation_admin.retry_failed(request.app[context_key], body.get("host"))
    return web.json_response({"requeued": count})


@routes.post("/api/v1/admin/queue/drop")
async def drop_failed(request: web.Request) -> web.Response:
    await require(request, "admin")
    body = await read_json(request, "api-queue-action-request")
    count = await federation_admin.drop_failed(request.app[context_key], body.get("host"))
    return web.json_response({"dropped": count})
