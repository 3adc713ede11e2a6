"""Telling other nodes that the community Group changed its name or description."""

from __future__ import annotations

from node.services.actors import community_document, node_actor
from node.services.community import CommunityProfile
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from node.timeutil import now_text
from protocol import builders
from protocol.namespaces import AS_PUBLIC


async def publish_group_update(
    ctx: NodeContext, session: Session, profile: CommunityProfile
) -> None:
    """Queue an ``Update`` of the Group to its followers (partner communities
    among them), in ``session``'s transaction; receivers re-read the actor."""
    keys = await session.get_node_keys("community")
    if keys is None:  # the node's actors are made at start-up; nothing to tell before
        return
    group = node_actor(ctx, keys)
    _, iri = new_activity_iri(ctx)
    activity = builders.update(
        id=iri, actor=group.iri, object=community_document(ctx, keys, profile),
        to=[AS_PUBLIC], cc=[ctx.urls.followers(group.username)], published=now_text(),
    )
    await publish_activity(ctx, session, group, activity)
