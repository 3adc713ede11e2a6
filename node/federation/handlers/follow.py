"""Follow of a local member or of the community Group."""

from __future__ import annotations

from typing import Any

from node.errors import NotFound
from node.federation.peer_backfill import backfill_follower
from node.federation.remote_actors import RemoteActors
from node.services import follows
from node.services.actors import local_actor_by_iri
from node.services.context import NodeContext
from protocol.normalize import id_of


async def handle_follow(ctx: NodeContext, activity: dict[str, Any]) -> str:
    follower = id_of(activity.get("actor")) or ""
    target = id_of(activity.get("object"))
    followee = await local_actor_by_iri(ctx, target or "")
    if followee is None or followee.iri == ctx.urls.instance_actor:
        raise NotFound(f"{target} is not an actor of this node")
    # Cache the follower: deliveries need its inbox.
    await RemoteActors(ctx).get(follower)
    state = await follows.receive_follow(ctx, followee, follower, activity)
    if state == "accepted" and followee.iri == ctx.urls.actor(ctx.settings.community_handle):
        sent = await backfill_follower(ctx, followee, follower, activity["id"])
        return f"applied: {state}, {sent} listings announced"
    return f"applied: {state}"
