"""Announce by a followed community Group (FEP-1b12): the Group relays its
members' listing activities. Nothing the Group says is trusted by itself:
listings are checked against their authors' proofs, deletions against the
listing's own origin."""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.fetch import FetchError, fetch_json
from node.federation.policy import host_of
from node.federation.remote_listings import delete_remote_listing, store_remote_listing
from node.federation.verification import followed_locally, verified_proposal
from node.services.actors import instance_actor
from node.services.context import NodeContext
from node.services.follows import NOT_FOLLOWED
from node.workers.jobs import RetryLater
from protocol.normalize import has_type, id_of


async def _fetch(ctx: NodeContext, iri: str) -> dict[str, Any] | None:
    """The object as its origin serves it now; None when the origin says it is gone."""
    try:
        return await fetch_json(ctx, iri, signer=await instance_actor(ctx))
    except FetchError as exc:
        if exc.status in (404, 410):
            return None
        if exc.transient:
            raise RetryLater(f"cannot fetch {iri}: {exc.detail}") from exc
        raise


async def _store(ctx: NodeContext, proposal: dict[str, Any]) -> str:
    await verified_proposal(ctx, proposal)
    async with ctx.storage.transaction() as tx:
        await store_remote_listing(tx, proposal)
    return "applied"


async def _deleted(ctx: NodeContext, target: str) -> str:
    current = await _fetch(ctx, target)
    if current is not None and not has_type(current, "Tombstone"):
        raise Forbidden(f"{target} still exists at its origin; the Delete is not believed")
    async with ctx.storage.transaction() as tx:
        deleted = await delete_remote_listing(tx, target)
    return "applied" if deleted else "ignored: unknown listing"


async def handle_announce(ctx: NodeContext, activity: dict[str, Any]) -> str:
    group = id_of(activity.get("actor")) or ""
    if not await followed_locally(ctx, group):
        return f"{NOT_FOLLOWED} the announcer"
    inner = activity.get("object")
    if isinstance(inner, str):
        fetched = await _fetch(ctx, inner)
        if fetched is None:
            return "ignored: the announced object is gone"
        inner = fetched
    if not isinstance(inner, dict):
        return "ignored: nothing announced"
    if has_type(inner, "Proposal"):
        return await _store(ctx, inner)
    obj = inner.get("object")
    if has_type(inner, "Create") or has_type(inner, "Update"):
        if isinstance(obj, str):
            obj = await _fetch(ctx, obj)
        if isinstance(obj, dict) and has_type(obj, "Proposal"):
            if id_of(obj.get("attributedTo")) != id_of(inner.get("actor")):
                raise Forbidden("the announced activity's actor is not the listing's author")
            return await _store(ctx, obj)
        return "ignored: not a listing"
    if has_type(inner, "Delete"):
        target = id_of(obj)
        if target is None or host_of(target) != host_of(id_of(inner.get("actor")) or ""):
            raise Forbidden("the announced Delete names an object of another origin")
        return await _deleted(ctx, target)
    return "ignored: nothing Kula keeps"
