"""Delete: a remote listing leaves search; a deleted account loses its follows;
a credential not held yet is remembered as deleted (credential_deletes)."""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.handlers import credential_deletes
from node.federation.policy import host_of
from node.federation.remote_listings import delete_remote_listing
from node.services.context import NodeContext
from node.timeutil import now_text
from protocol.normalize import id_of


async def handle_delete(ctx: NodeContext, activity: dict[str, Any]) -> str:
    actor = id_of(activity.get("actor")) or ""
    target = id_of(activity.get("object"))
    if target is None:
        return "ignored: nothing named"
    if host_of(target) != host_of(actor):
        raise Forbidden("an actor can only delete objects of its own origin")
    async with ctx.storage.transaction() as tx:
        if target == actor:
            for follow in await tx.list_follows(follower_iri=actor, state=None, limit=10_000):
                await tx.delete_follow(follow.id)
            for follow in await tx.list_follows(followee_iri=actor, state=None, limit=10_000):
                await tx.delete_follow(follow.id)
            return "applied: account removed"
        # A credential's Create processed at the same time either committed
        # before this looks, or looks for the deletion after this commits.
        await tx.serialize_on(target)
        attestation = await tx.get_attestation(target)
        if attestation is not None:
            if attestation.issuer_iri != actor:
                raise Forbidden("only its issuer may withdraw an attestation")
            withdrawn = await tx.withdraw_attestation(target, actor, now_text())
            return "applied: attestation withdrawn" if withdrawn else "ignored: already withdrawn"
        listing = await tx.get_listing_by_iri(target)
        if listing is not None and listing.author_iri != actor:
            raise Forbidden("only a listing's author may delete it")
        deleted = await delete_remote_listing(tx, target)
        deleted = await tx.delete_reply(target, actor) or deleted
        if not deleted and credential_deletes.may_name_a_credential(activity.get("object")):
            await credential_deletes.remember(tx, target, actor)
            return "applied: remembered, deleted before it arrived"
    return "applied" if deleted else "ignored: unknown object"
