"""Moving an account between nodes (ActivityPub ``Move``, ``alsoKnownAs``,
``movedTo``) with its followers and its reputation.

The new account first lists the old one in ``alsoKnownAs``; the old account
then announces ``Move`` to its followers. Every node that hears it checks the
new account's ``alsoKnownAs`` itself, moves its members' follows over, and
counts attestations about the old account for the new one. The new account's
own node re-verifies and imports those attestations.
"""

from __future__ import annotations

import logging
from typing import Any

from node.errors import Conflict, Forbidden, NodeError, ValidationFailed
from node.federation.fetch import fetch_json
from node.federation.lookup import resolve_actor_iri
from node.federation.remote_actors import RemoteActors
from node.services import follows
from node.services.accounts import publish_profile_update
from node.services.actors import instance_actor, local_actor_by_iri, member_actor
from node.services.attestations import record_of
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.records import Member
from node.timeutil import now_text
from protocol import builders
from protocol.errors import ProtocolError
from protocol.normalize import as_list, id_of

log = logging.getLogger("kula.moves")


async def _aliases_of(ctx: NodeContext, iri: str) -> list[str]:
    """The ``alsoKnownAs`` an actor publishes now (fetched fresh if remote)."""
    local = await local_actor_by_iri(ctx, iri)
    if local is not None:
        return local.member.aliases if local.member else []
    document = (await RemoteActors(ctx).get(iri, refresh=True)).document
    return [alias for alias in (id_of(a) for a in as_list(document.get("alsoKnownAs"))) if alias]


async def resolve_aliases(ctx: NodeContext, member: Member, targets: list[str]) -> list[str]:
    """The actor IRIs of ``targets`` (handles or IRIs), fit to be ``member``'s aliases."""
    resolved = [await resolve_actor_iri(ctx, target) for target in targets]
    if member_actor(ctx, member).iri in resolved:
        raise ValidationFailed("an account cannot be its own alias")
    return resolved


async def set_aliases(ctx: NodeContext, member: Member, targets: list[str]) -> list[str]:
    """Declare the accounts this member also is (the old ones, before a move here)."""
    resolved = await resolve_aliases(ctx, member, targets)
    async with ctx.storage.transaction() as tx:
        before = await tx.get_member(member.id)
        assert before is not None
        await tx.set_member_aliases(member.id, resolved)
        # alsoKnownAs is part of the actor document: followers' copies are refreshed.
        await publish_profile_update(ctx, tx, before)
    return resolved


async def move(ctx: NodeContext, member: Member, target: str) -> str:
    """Move this member to ``target``, which must list this account as an alias."""
    if member.moved_to:
        raise Conflict(f"this account already moved to {member.moved_to}")
    old = member_actor(ctx, member)
    new_iri = await resolve_actor_iri(ctx, target)
    if old.iri not in await _aliases_of(ctx, new_iri):
        raise Forbidden(f"{new_iri} does not list {old.iri} in alsoKnownAs; add it there first")
    now = now_text()
    async with ctx.storage.transaction() as tx:
        await tx.set_member_moved_to(member.id, new_iri)
        await tx.record_move(old.iri, new_iri, now)
        _, iri = new_activity_iri(ctx)
        activity = builders.move(
            id=iri, actor=old.iri, target=new_iri,
            to=[ctx.urls.followers(member.username), new_iri], published=now,
        )
        await publish_activity(ctx, tx, old, activity)
    await carry_local_followers(ctx, old.iri, new_iri)
    await import_attestations(ctx, old.iri, new_iri)
    return new_iri


async def carry_local_followers(ctx: NodeContext, old_iri: str, new_iri: str) -> int:
    """This node's members (and community) who followed the old account follow the new."""
    async with ctx.storage.read() as session:
        records = await session.list_follows(followee_iri=old_iri, state="accepted", limit=10_000)
    moved = 0
    for record in records:
        follower = await local_actor_by_iri(ctx, record.follower_iri)
        if follower is None:
            continue
        await follows.unfollow(ctx, follower, old_iri)
        try:
            await follows.follow(ctx, follower, new_iri)
        except Conflict:
            pass
        moved += 1
    return moved


async def import_attestations(ctx: NodeContext, old_iri: str, new_iri: str) -> int:
    """Collect and re-verify the attestations about the old account, for the new one."""
    # Imported here: the inbound handlers import this module for Move.
    from node.federation.handlers.attestation import keep_attestation, verify_attestation

    local_new = await local_actor_by_iri(ctx, new_iri)
    if local_new is None:
        return 0
    local_old = await local_actor_by_iri(ctx, old_iri)
    if local_old is not None:
        return 0  # the attestations are already here
    document = (await RemoteActors(ctx).get(old_iri, refresh=True)).document
    collection_iri = id_of(document.get("attestations")) or f"{old_iri}/attestations"
    collection = await fetch_json(ctx, collection_iri, signer=await instance_actor(ctx))
    imported = 0
    for item in as_list(collection.get("orderedItems"))[:1000]:
        if not isinstance(item, dict) or id_of(item.get("credentialSubject")) != old_iri:
            continue
        try:
            await verify_attestation(ctx, item)
        except (NodeError, ProtocolError) as exc:
            log.info("not importing %s: %s", item.get("id"), exc)
            continue
        # Its issuer may have withdrawn it here before the old node heard of it.
        stored, _ = await keep_attestation(ctx, record_of(item, now_text()))
        imported += stored
    return imported


async def receive_move(ctx: NodeContext, activity: dict[str, Any]) -> str:
    """Another node's member moved: verify it, carry follows, keep their reputation."""
    old_iri = id_of(activity.get("actor")) or ""
    if id_of(activity.get("object")) not in (None, old_iri):
        raise Forbidden("an actor can only move itself")
    new_iri = id_of(activity.get("target"))
    if not new_iri:
        raise Forbidden("a Move needs a target")
    if old_iri not in await _aliases_of(ctx, new_iri):
        raise Forbidden(f"{new_iri} does not list {old_iri} in alsoKnownAs")
    async with ctx.storage.transaction() as tx:
        await tx.record_move(old_iri, new_iri, now_text())
    moved = await carry_local_followers(ctx, old_iri, new_iri)
    imported = await import_attestations(ctx, old_iri, new_iri)
    return f"applied: {moved} follows moved, {imported} attestations imported"
