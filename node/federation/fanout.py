"""Fan-out: turn one published activity into delivery rows, one per remote
inbox, shared inboxes de-duplicated, blocked hosts left out. A member's public
listing activity is also announced by the community Group to its followers,
so partner communities receive it (FEP-1b12)."""

from __future__ import annotations

import logging
from typing import Any

from node.errors import NodeError
from node.federation.fetch import FetchError
from node.federation.policy import host_allowed, host_of
from node.federation.remote_actors import RemoteActors
from node.services.actors import local_actor_by_iri
from node.services.context import NodeContext
from node.services.outbox import publish_activity
from node.timeutil import now_text
from node.workers.jobs import RetryLater
from protocol import builders
from protocol.namespaces import AS_PUBLIC
from protocol.normalize import PUBLIC_ADDRESSES, as_list, has_type, id_of

log = logging.getLogger("kula.fanout")
_LISTING_ACTIVITIES = ("Create", "Update", "Delete")


async def _recipient_inboxes(
    ctx: NodeContext, activity: dict[str, Any], actor_iri: str
) -> set[str]:
    actors = RemoteActors(ctx)
    inboxes: set[str] = set()
    followers = f"{actor_iri}/followers"
    addressed = [
        id_of(entry)
        for field in ("to", "cc", "bto", "bcc", "audience")
        for entry in as_list(activity.get(field))
    ]
    for address in dict.fromkeys(a for a in addressed if a):
        if address in PUBLIC_ADDRESSES or address.startswith(ctx.urls.base + "/"):
            if address == followers:
                async with ctx.storage.read() as session:
                    inboxes.update(await session.follower_inboxes(actor_iri))
            # Other local addressees need no network: local actors read the database.
            continue
        try:
            remote = await actors.get(address)
        except FetchError as exc:
            if exc.transient:
                raise RetryLater(f"cannot resolve {address}: {exc.detail}") from exc
            log.warning("dropping unreachable addressee %s: %s", address, exc.detail)
            continue
        inboxes.add(remote.delivery_inbox)
    return inboxes


def _is_public_listing_activity(activity: dict[str, Any]) -> bool:
    if not any(has_type(activity, kind) for kind in _LISTING_ACTIVITIES):
        return False
    addressed = as_list(activity.get("to")) + as_list(activity.get("cc"))
    if not any(address in PUBLIC_ADDRESSES for address in addressed):
        return False
    obj = activity.get("object")
    return isinstance(obj, dict) and (
        has_type(obj, "Proposal") or obj.get("formerType") == "Proposal"
    )


async def _announce_by_community(ctx: NodeContext, activity: dict[str, Any]) -> None:
    """The community Group relays a member's public listing activity to its followers."""
    group = await local_actor_by_iri(ctx, ctx.urls.actor(ctx.settings.community_handle))
    assert group is not None, "node keys are created at start-up"
    # Derived from the announced activity, so a retried fan-out announces once.
    iri = f"{activity['id']}-announce"
    async with ctx.storage.read() as session:
        if await session.get_activity_document_by_iri(iri) is not None:
            return
    announce = builders.announce(
        id=iri,
        actor=group.iri,
        object=activity["id"],
        to=[AS_PUBLIC],
        cc=[f"{group.iri}/followers"],
        published=now_text(),
    )
    # Embed the whole activity: its listing carries the author's proof, so
    # receivers verify the listing itself and need not trust the Group.
    announce["object"] = {key: value for key, value in activity.items() if key != "@context"}
    async with ctx.storage.transaction() as tx:
        await publish_activity(ctx, tx, group, announce)


async def fan_out(ctx: NodeContext, payload: dict[str, Any]) -> None:
    """Job handler: expand ``payload["activity_iri"]`` into deliveries."""
    activity_iri = payload["activity_iri"]
    async with ctx.storage.read() as session:
        activity = await session.get_activity_document_by_iri(activity_iri)
    if activity is None:
        raise NodeError(f"activity {activity_iri} is not in any outbox")
    actor_iri = id_of(activity.get("actor"))
    assert actor_iri is not None
    inboxes = await _recipient_inboxes(ctx, activity, actor_iri)
    now = now_text()
    async with ctx.storage.transaction() as tx:
        allowed = [
            (inbox, host_of(inbox))
            for inbox in sorted(inboxes)
            if await host_allowed(ctx, tx, host_of(inbox))
        ]
        await tx.insert_deliveries(activity_iri, actor_iri, allowed, now)
    member_prefix = ctx.urls.base + "/users/"
    group_iri = ctx.urls.actor(ctx.settings.community_handle)
    if (
        actor_iri.startswith(member_prefix)
        and actor_iri != group_iri
        and _is_public_listing_activity(activity)
    ):
        await _announce_by_community(ctx, activity)
