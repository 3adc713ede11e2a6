"""Discovery: WebFinger (RFC 7033), NodeInfo 2.1, host-meta (RFC 6415), and
the documents other implementers read: Kula's JSON-LD context and schemas."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import unquote

from aiohttp import web

from node.errors import BadRequest, NotFound
from node.services.community import community_profile
from node.services.context import NodeContext
from node.typedefs import context_key
from protocol import contexts
from protocol.namespaces import KULA_CONTEXT

routes = web.RouteTableDef()
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
JRD = "application/jrd+json"


def software_version() -> str:
    try:
        return version("kula")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


async def _resolve_username(ctx: NodeContext, resource: str) -> str | None:
    """The username a WebFinger resource names on this node, or None."""
    host = ctx.settings.public_host.lower()
    if resource.startswith("acct:"):
        user, _, resource_host = resource[5:].rpartition("@")
        if resource_host.lower() != host or not user:
            return None
        username = user
    elif resource.startswith(ctx.urls.base + "/users/"):
        username = unquote(resource[len(ctx.urls.base + "/users/"):])
    elif resource.startswith(ctx.urls.base + "/@"):
        username = unquote(resource[len(ctx.urls.base + "/@"):])
    else:
        return None
    if username == ctx.settings.community_handle:
        return username
    async with ctx.storage.read() as session:
        member = await session.get_member_by_username(username)
    return member.username if member and member.active else None


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    resource = request.query.get("resource")
    if not resource:
        raise BadRequest("the 'resource' query parameter is required (RFC 7033 §4.2)")
    ctx = request.app[context_key]
    host = ctx.settings.public_host
    if resource in {f"acct:{host}@{host}", ctx.urls.instance_actor}:
        subject, actor_iri, profile = f"acct:{host}@{host}", ctx.urls.instance_actor, ctx.urls.base
    else:
        username = await _resolve_username(ctx, resource)
        if username is None:
            raise NotFound(f"no account {resource!r} on this node")
        subject = f"acct:{username}@{host}"
        actor_iri = ctx.urls.actor(username)
        profile = ctx.urls.profile_page(username)
    body = {
        "subject": subject,
        "aliases": [actor_iri, profile],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": actor_iri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
        ],
    }
    response = web.Response(text=json.dumps(body), content_type=JRD)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    base = request.app[context_key].urls.base
    return web.json_response(
        {"links": [{"rel": NODEINFO_SCHEMA, "href": f"{base}/nodeinfo/2.1"}]}
    )


@routes.get("/nodeinfo/2.1")
async def nodeinfo(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        users = await session.count_members()
        listings = await session.count_local_listings()
        profile = await community_profile(ctx, session)
    body = {
        "version": "2.1",
        "software": {
            "name": "kula",
            "version": software_version(),
            "homepage": "https://kula.community/",
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": profile.registration == "open",
        "usage": {"users": {"total": users}, "localPosts": listings},
        "metadata": {
            "nodeName": profile.name,
            "nodeDescription": profile.description,
            "registration": profile.registration,
            "federation": ctx.settings.federation,
            # Partner communities find this node's community Group here.
            "community": ctx.urls.actor(ctx.settings.community_handle),
        },
    }
    return web.Response(
        body=json.dumps(body).encode(),
        headers={"Content-Type": f'application/json; profile="{NODEINFO_SCHEMA}#"'},
    )


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    base = request.app[context_key].urls.base
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n'
        "</XRD>\n"
    )
    return web.Response(text=xml, content_type="application/xrd+xml")


@routes.get("/ns/v1")
async def kula_context(request: web.Request) -> web.Response:
    document = contexts.load_context(KULA_CONTEXT)
    return web.Response(text=json.dumps(document), content_type="application/ld+json")
