"""The outbox: every activity a local actor publishes is recorded here, in the
same transaction as the change it announces, together with the job that will
deliver it. So an activity is never lost between the API's answer and its
delivery, and never delivered for a change that was rolled back."""

from __future__ import annotations

from typing import Any

from node.ids import new_id
from node.services.actors import LocalActor, member_actor
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Member
from node.timeutil import now_text
from protocol import builders
from protocol.namespaces import AS_PUBLIC
from protocol.normalize import as_list, id_of

_BUILDERS = {"Create": builders.create, "Update": builders.update, "Delete": builders.delete}


def new_activity_iri(ctx: NodeContext) -> tuple[str, str]:
    activity_id = new_id()
    return activity_id, ctx.urls.activity(activity_id)


async def publish_activity(
    ctx: NodeContext, session: Session, actor: LocalActor, activity: dict[str, Any]
) -> None:
    """Store an already built activity in ``actor``'s outbox and queue its delivery."""
    iri = activity["id"]
    activity_id = iri.rsplit("/", 1)[-1]
    addressed = as_list(activity.get("to")) + as_list(activity.get("cc"))
    now = now_text()
    await session.insert_activity(
        activity_id=activity_id,
        iri=iri,
        actor_iri=actor.iri,
        member_id=actor.member.id if actor.member else None,
        type=str(activity.get("type")),
        object_iri=id_of(activity.get("object")),
        public=AS_PUBLIC in addressed,
        document=activity,
        published_at=activity.get("published") or now,
    )
    await session.enqueue_job("fanout", {"activity_iri": iri}, now)


async def publish_actor_update(
    ctx: NodeContext, session: Session, actor: LocalActor, document: dict[str, Any]
) -> None:
    """Queue an ``Update`` of ``actor``'s whole new actor ``document`` to its
    followers, in ``session``'s transaction, so other servers refresh their copy
    (receivers refetch it rather than trust the embedded one)."""
    _, iri = new_activity_iri(ctx)
    activity = builders.update(
        id=iri, actor=actor.iri, object=document,
        to=[AS_PUBLIC], cc=[ctx.urls.followers(actor.username)], published=now_text(),
    )
    await publish_activity(ctx, session, actor, activity)


async def record_activity(
    ctx: NodeContext, session: Session, member: Member, kind: str, document: dict[str, Any]
) -> dict[str, Any]:
    """Wrap ``document`` in a ``kind`` activity by ``member``, addressed as the
    object is, and publish it."""
    local = member_actor(ctx, member)
    _, iri = new_activity_iri(ctx)
    to = as_list(document.get("to")) or [AS_PUBLIC]
    cc = as_list(document.get("cc")) or [ctx.urls.followers(member.username)]
    activity = _BUILDERS[kind](
        id=iri, actor=local.iri, object=document, to=to, cc=cc, published=now_text()
    )
    await publish_activity(ctx, session, local, activity)
    return activity
