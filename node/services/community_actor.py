"""Telling other nodes that the community Group changed its name or description."""

from __future__ import annotations

from node.services.actors import community_document, node_actor
from node.services.community import CommunityProfile
from node.services.context import NodeContext
from node.services.outbox import publish_actor_update
from node.storage.base import Session


async def publish_group_update(
    ctx: NodeContext, session: Session, profile: CommunityProfile
) -> None:
    """Queue an ``Update`` of the Group to its followers (partner communities
    among them), in ``session``'s transaction; receivers re-read the actor."""
    keys = await session.get_node_keys("community")
    if keys is None:  # the node's actors are made at start-up; nothing to tell before
        return
    await publish_actor_update(
        ctx, session, node_actor(ctx, keys), community_document(ctx, keys, profile)
    )
