"""Community peering: this node's community Group follows another node's
Group, which then announces its members' public listings here."""

from __future__ import annotations

from node.errors import NotFound, ValidationFailed
from node.federation.fetch import fetch_json
from node.federation.policy import host_of
from node.federation.remote_actors import RemoteActors
from node.services import follows
from node.services.actors import instance_actor, local_actor_by_iri
from node.services.context import NodeContext
from node.storage.records import Peer
from node.timeutil import now_text

NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def _base(ctx: NodeContext, host: str) -> str:
    scheme = "http" if ctx.settings.development else "https"
    return f"{scheme}://{host}"


async def discover_community(ctx: NodeContext, host: str) -> str:
    """The community Group of a Kula node, found through its NodeInfo."""
    signer = await instance_actor(ctx)
    links = await fetch_json(
        ctx, f"{_base(ctx, host)}/.well-known/nodeinfo", signer=signer, json_ok=True
    )
    href = next(
        (link.get("href") for link in links.get("links", [])
         if isinstance(link, dict) and link.get("rel") == NODEINFO_REL),
        None,
    )
    if not isinstance(href, str) or host_of(href) != host:
        raise NotFound(f"{host} publishes no NodeInfo 2.1 document")
    info = await fetch_json(ctx, href, signer=signer, json_ok=True)
    community = (info.get("metadata") or {}).get("community")
    if not isinstance(community, str) or host_of(community) != host:
        raise NotFound(f"{host} does not name a community actor; is it a Kula node?")
    return community


def normalise_host(host: str) -> str:
    host = host.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not host or "/" in host or "@" in host:
        raise ValidationFailed(f"{host!r} is not a host name (like tools.example.org)")
    return host


async def add_peer(ctx: NodeContext, host: str) -> Peer:
    host = normalise_host(host)
    if host == ctx.settings.public_host.lower():
        raise ValidationFailed("a community cannot peer with itself")
    group_iri = await discover_community(ctx, host)
    await RemoteActors(ctx).get(group_iri)
    community = await local_actor_by_iri(ctx, ctx.urls.actor(ctx.settings.community_handle))
    assert community is not None
    peer = Peer(host=host, group_iri=group_iri, created_at=now_text())
    async with ctx.storage.transaction() as tx:
        await tx.add_peer(peer)
        existing = await tx.get_follow(community.iri, group_iri)
    if existing is None or existing.state == "rejected":
        await follows.follow(ctx, community, group_iri)
    return peer


async def remove_peer(ctx: NodeContext, host: str) -> None:
    host = normalise_host(host)
    async with ctx.storage.transaction() as tx:
        peers = {peer.host: peer for peer in await tx.list_peers()}
        if host not in peers:
            raise NotFound(f"{host} is not a partner community")
        await tx.remove_peer(host)
    community = await local_actor_by_iri(ctx, ctx.urls.actor(ctx.settings.community_handle))
    assert community is not None
    try:
        await follows.unfollow(ctx, community, peers[host].group_iri)
    except NotFound:
        pass


async def list_peers(ctx: NodeContext) -> list[tuple[Peer, str]]:
    """Each partner community with the state of our Group's follow of it."""
    community_iri = ctx.urls.actor(ctx.settings.community_handle)
    async with ctx.storage.read() as session:
        result = []
        for peer in await session.list_peers():
            record = await session.get_follow(community_iri, peer.group_iri)
            result.append((peer, record.state if record else "not following"))
    return result
