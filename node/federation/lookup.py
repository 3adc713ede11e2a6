"""On-demand lookups for members: a handle or IRI to an actor, a remote
listing by its IRI (fetched, verified against its author's proof, kept)."""

from __future__ import annotations

from typing import Any

from node.errors import NotFound, ValidationFailed
from node.federation.fetch import fetch_json
from node.federation.policy import host_of, require_host_allowed
from node.federation.remote_actors import RemoteActors
from node.federation.remote_listings import store_remote_listing
from node.federation.verification import verified_proposal
from node.federation.webfinger import resolve_handle
from node.services.actors import instance_actor, local_actor_by_iri
from node.services.community import community_profile
from node.services.context import NodeContext
from node.storage.records import Listing


async def resolve_actor_iri(ctx: NodeContext, target: str) -> str:
    """An actor IRI from ``name@host``, ``@name@host``, ``acct:`` or an IRI."""
    target = target.strip()
    if target.startswith(("https://", "http://")):
        iri = target
    elif "@" in target:
        local_suffix = "@" + ctx.settings.public_host.lower()
        handle = target.removeprefix("acct:").removeprefix("@")
        if handle.lower().endswith(local_suffix):
            iri = ctx.urls.actor(handle[: -len(local_suffix)])
        else:
            await require_host_allowed(ctx, handle.rsplit("@", 1)[-1])
            iri = await resolve_handle(ctx, handle)
    else:
        raise ValidationFailed(
            "name a handle (name@host) or an actor IRI",
            errors=[{"pointer": "/target", "reason": "not a handle or IRI"}],
        )
    if iri.startswith(ctx.urls.base + "/"):
        if await local_actor_by_iri(ctx, iri) is None:
            raise NotFound(f"no actor {iri} on this node")
        return iri
    await require_host_allowed(ctx, host_of(iri))
    await RemoteActors(ctx).get(iri)
    return iri


async def actor_profile(ctx: NodeContext, resource: str) -> dict[str, Any]:
    iri = await resolve_actor_iri(ctx, resource)
    if iri.startswith(ctx.urls.base + "/"):
        local = await local_actor_by_iri(ctx, iri)
        assert local is not None
        name = (local.member.display_name if local.member
                else (await community_profile(ctx)).name)
        return {"iri": iri, "handle": f"{local.username}@{ctx.settings.public_host}",
                "name": name, "type": "Person" if local.member else "Group", "local": True}
    actor = await RemoteActors(ctx).get(iri)
    document = actor.document
    return {
        "iri": actor.iri,
        "handle": f"{actor.preferred_username}@{actor.host}" if actor.preferred_username else None,
        "name": document.get("name") if isinstance(document.get("name"), str) else None,
        "type": actor.type,
        "local": False,
    }


async def remote_listing(ctx: NodeContext, iri: str) -> Listing:
    if not iri.startswith(("https://", "http://")):
        raise ValidationFailed("iri must be an http(s) IRI")
    async with ctx.storage.read() as session:
        known = await session.get_listing_by_iri(iri)
    if known is not None and known.member_id is not None:
        return known
    await require_host_allowed(ctx, host_of(iri))
    document = await fetch_json(ctx, iri, signer=await instance_actor(ctx))
    if document.get("id") != iri:
        raise ValidationFailed("the fetched document does not carry the requested id")
    proposal = await verified_proposal(ctx, document)
    async with ctx.storage.transaction() as tx:
        return await store_remote_listing(tx, proposal)
