"""The outbox: every activity a local actor publishes is recorded here, in the
same transaction as the change it announces. Delivery to other nodes reads
from it."""

from __future__ import annotations

from typing import Any

from node.ids import new_id
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Member
from node.timeutil import now_text
from protocol import builders
from protocol.namespaces import AS_PUBLIC
from protocol.normalize import as_list

_BUILDERS = {"Create": builders.create, "Update": builders.update, "Delete": builders.delete}


async def record_activity(
    ctx: NodeContext, session: Session, member: Member, kind: str, document: dict[str, Any]
) -> dict[str, Any]:
    """Wrap ``document`` in a ``kind`` activity by ``member``, addressed as the
    object is, and store it in the member's outbox."""
    local = member_actor(ctx, member)
    activity_id = new_id()
    iri = ctx.urls.activity(activity_id)
    to = as_list(document.get("to")) or [AS_PUBLIC]
    cc = as_list(document.get("cc")) or [ctx.urls.followers(member.username)]
    published = now_text()
    activity = _BUILDERS[kind](
        id=iri, actor=local.iri, object=document, to=to, cc=cc, published=published
    )
    await session.insert_activity(
        activity_id=activity_id,
        iri=iri,
        actor_iri=local.iri,
        member_id=member.id,
        type=kind,
        object_iri=document.get("id"),
        public=AS_PUBLIC in to or AS_PUBLIC in cc,
        document=activity,
        published_at=published,
    )
    return activity
