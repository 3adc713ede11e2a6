"""Vouches from other nodes (SPEC §11.4): kept only when they are well formed
and their issuer's proof verifies; revoked by their issuer's ``Delete``.

``Create`` and ``Delete`` reach this module first; anything that is not about
a vouch goes on to the general handlers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from node.errors import Forbidden
from node.federation.handlers import create_update, credential_deletes, delete
from node.federation.remote_actors import RemoteActors
from node.services.context import NodeContext
from node.services.vouches import record_of
from node.timeutil import now_text
from protocol.normalize import has_type, id_of
from protocol.vocab import VOUCH_TYPE
from protocol.vouches import verify_vouch


async def store_vouch(ctx: NodeContext, activity: dict[str, Any]) -> str:
    """A ``Create`` of a vouch: its issuer must be the activity's actor and its signer."""
    document = activity["object"]
    issuer = id_of(document.get("issuer"))
    if issuer is None or issuer != id_of(activity.get("actor")):
        raise Forbidden("only its issuer may publish a vouch")
    record = record_of(document, now_text())  # the shape first: a malformed one costs no fetch
    issuer_actor = await RemoteActors(ctx).get(issuer)
    verify_vouch(document, issuer_actor.document)
    async with ctx.storage.transaction() as tx:
        await tx.serialize_on(record.iri)  # with a Delete of it processed at the same time
        revoked_at = await credential_deletes.revoked_before_arrival(tx, record.iri, issuer)
        stored = await tx.save_vouch(replace(record, revoked_at=revoked_at))
    if not stored:
        return "ignored: already held"
    return "applied: vouch, revoked before it arrived" if revoked_at else "applied: vouch"


async def handle_create(ctx: NodeContext, activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    if isinstance(obj, dict) and has_type(obj, VOUCH_TYPE):
        return await store_vouch(ctx, activity)
    return await create_update.handle_create(ctx, activity)


async def handle_delete(ctx: NodeContext, activity: dict[str, Any]) -> str:
    """A revoked vouch, or (for an account deleted) all its vouches; then the rest."""
    actor = id_of(activity.get("actor")) or ""
    target = id_of(activity.get("object"))
    if target is not None and target != actor:
        async with ctx.storage.read() as session:
            vouch = await session.get_vouch(target)
        if vouch is not None:
            if vouch.issuer_iri != actor:
                raise Forbidden("only its issuer may revoke a vouch")
            async with ctx.storage.transaction() as tx:
                revoked = await tx.revoke_vouch(target, actor, now_text())
            return "applied: vouch revoked" if revoked else "ignored: already revoked"
    outcome = await delete.handle_delete(ctx, activity)
    if target is not None and target == actor:
        # Someone whose account is gone vouches for nobody any more.
        async with ctx.storage.transaction() as tx:
            await tx.revoke_vouches_by(actor, now_text())
    return outcome
