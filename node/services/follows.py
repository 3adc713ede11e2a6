"""Follows between actors of this node and of others.

Following someone on another node sends a ``Follow`` and waits for their
``Accept``; a follow of a local actor needs no network. Incoming follows are
accepted at once unless the member approves followers by hand.
"""

from __future__ import annotations

from typing import Any

from node.errors import Conflict, Forbidden, NotFound, ValidationFailed
from node.ids import new_id
from node.services.actors import LocalActor, local_actor_by_iri
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from node.storage.records import Follow
from node.timeutil import now_text
from protocol import builders


def _is_local(ctx: NodeContext, iri: str) -> bool:
    return iri.startswith(ctx.urls.base + "/")


#: How the inbound handlers record content from an actor nobody here follows.
#: When our Follow of that actor is accepted, what it sent meanwhile is
#: processed again (:func:`answer_outgoing_follow`): a followee's Accept and
#: its first posts are delivered concurrently, so they may arrive in any order.
NOT_FOLLOWED = "ignored: nobody here follows"


async def _send_answer(
    ctx: NodeContext, session: Session, followee: LocalActor, follow: Follow, kind: str,
    follow_activity: dict[str, Any] | str,
) -> None:
    if _is_local(ctx, follow.follower_iri):
        return
    _, iri = new_activity_iri(ctx)
    build = builders.accept if kind == "Accept" else builders.reject
    answer = build(
        id=iri, actor=followee.iri, object=follow_activity, to=[follow.follower_iri],
        published=now_text(),
    )
    await publish_activity(ctx, session, followee, answer)


def _approves_by_hand(followee: LocalActor) -> bool:
    return followee.member is not None and followee.member.manually_approves_followers


async def receive_follow(
    ctx: NodeContext, followee: LocalActor, follower_iri: str, activity: dict[str, Any]
) -> str:
    """Record an incoming Follow; answer it unless the member approves by hand."""
    now = now_text()
    async with ctx.storage.transaction() as tx:
        existing = await tx.get_follow(follower_iri, followee.iri)
        if existing is not None and existing.activity_iri == activity["id"]:
            return existing.state  # the same Follow again: already answered
        state = "pending" if _approves_by_hand(followee) else "accepted"
        follow = Follow(
            id=existing.id if existing else new_id(), follower_iri=follower_iri,
            followee_iri=followee.iri, state=state, activity_iri=activity["id"],
            created_at=existing.created_at if existing else now, updated_at=now,
        )
        await tx.upsert_follow(follow)
        if state == "accepted":
            await _send_answer(ctx, tx, followee, follow, "Accept", activity)
    return state


async def follow(ctx: NodeContext, follower: LocalActor, target_iri: str) -> Follow:
    """Start following ``target_iri`` (already resolved from a handle)."""
    if target_iri == follower.iri:
        raise ValidationFailed("an actor cannot follow itself")
    now = now_text()
    local_target = await local_actor_by_iri(ctx, target_iri) if _is_local(ctx, target_iri) else None
    if _is_local(ctx, target_iri) and local_target is None:
        raise NotFound(f"no actor {target_iri} on this node")
    async with ctx.storage.transaction() as tx:
        existing = await tx.get_follow(follower.iri, target_iri)
        if existing is not None and existing.state in ("pending", "accepted"):
            raise Conflict(f"already following {target_iri} ({existing.state})")
        _, activity_iri = new_activity_iri(ctx)
        state = "pending"
        if local_target is not None:
            state = "pending" if _approves_by_hand(local_target) else "accepted"
        record = Follow(
            id=existing.id if existing else new_id(), follower_iri=follower.iri,
            followee_iri=target_iri, state=state, activity_iri=activity_iri,
            created_at=now, updated_at=now,
        )
        await tx.upsert_follow(record)
        if local_target is None:
            activity = builders.follow(
                id=activity_iri, actor=follower.iri, object=target_iri, published=now
            )
            await publish_activity(ctx, tx, follower, activity)
    return record


async def unfollow(ctx: NodeContext, follower: LocalActor, target_iri: str) -> None:
    async with ctx.storage.transaction() as tx:
        existing = await tx.get_follow(follower.iri, target_iri)
        if existing is None:
            raise NotFound(f"not following {target_iri}")
        await tx.delete_follow(existing.id)
        if not _is_local(ctx, target_iri):
            original = builders.follow(
                id=existing.activity_iri, actor=follower.iri, object=target_iri,
                published=existing.created_at,
            )
            _, iri = new_activity_iri(ctx)
            undo = builders.undo(
                id=iri, actor=follower.iri, object=original, to=[target_iri], published=now_text()
            )
            await publish_activity(ctx, tx, follower, undo)


async def answer_outgoing_follow(
    ctx: NodeContext, follow_activity_iri: str, answering_actor: str, state: str
) -> bool:
    """Apply a remote Accept or Reject to one of our Follows."""
    async with ctx.storage.transaction() as tx:
        record = await tx.get_follow_by_activity(follow_activity_iri)
        if record is None or not _is_local(ctx, record.follower_iri):
            return False
        if record.followee_iri != answering_actor:
            raise Forbidden("only the followed actor can answer a Follow")
        now = now_text()
        await tx.set_follow_state(record.id, state, now)
        if state == "accepted" and record.state == "pending":
            # What the followee sent since our Follow may have come before its
            # Accept and been ignored; now that we follow it, it counts.
            reopened = await tx.reopen_inbox_activities(
                answering_actor, record.created_at, NOT_FOLLOWED
            )
            if reopened:
                await tx.enqueue_jobs("inbox", [{"seq": seq} for seq in reopened], now)
    return True


async def decide_follow_request(
    ctx: NodeContext, followee: LocalActor, follow_id: str, accept: bool
) -> Follow:
    """A member accepts or rejects a pending follower."""
    async with ctx.storage.transaction() as tx:
        record = await tx.get_follow_by_id(follow_id)
        if record is None or record.followee_iri != followee.iri:
            raise NotFound("no such follow request")
        if record.state != "pending":
            raise Conflict(f"the request is already {record.state}")
        state = "accepted" if accept else "rejected"
        await tx.set_follow_state(record.id, state, now_text())
        original = builders.follow(
            id=record.activity_iri, actor=record.follower_iri, object=followee.iri,
            published=record.created_at,
        )
        await _send_answer(
            ctx, tx, followee, record, "Accept" if accept else "Reject", original
        )
        if not accept:
            await tx.delete_follow(record.id)
        updated = await tx.get_follow_by_id(record.id)
    return updated or record
