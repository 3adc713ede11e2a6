"""A new partner community receives the listings that existed before it
peered, each verified against its author's proof, once."""

from __future__ import annotations

import pytest

from node.federation.peer_backfill import backfill_follower
from node.federation.processing import process_inbox_activity
from node.services.actors import local_actor_by_iri
from tests.federation.harness import Node, settle
from tests.federation.test_nodes import LISTING, nodes, search_titles  # noqa: F401


@pytest.mark.spec("FEP-1b12 Announce")
async def test_a_new_partner_receives_the_listings_that_were_already_there(
    nodes: tuple[Node, Node, Node],  # noqa: F811
) -> None:
    a, _, c = nodes
    alice = await a.member("alice")
    admin_c = await c.member("carol")
    for title in ("Cordless drill", "Garden ladder"):
        status, _ = await a.api("POST", "/api/v1/listings", alice, json={**LISTING, "title": title})
        assert status == 201
    status, gone = await a.api("POST", "/api/v1/listings", alice, json={**LISTING, "title": "Saw"})
    await a.api("DELETE", f"/api/v1/listings/{gone['id']}", alice)
    await settle(a, c)
    assert await search_titles(c, "drill") == []

    status, _ = await c.api("POST", "/api/v1/admin/peers", admin_c, json={"host": a.host})
    assert status == 201
    await settle(a, c)
    assert await search_titles(c, "drill") == ["Cordless drill"]
    assert await search_titles(c, "ladder") == ["Garden ladder"]
    assert await search_titles(c, "saw") == []

    # The same Follow handled again (a redelivery) announces nothing twice.
    group = await local_actor_by_iri(a.ctx, a.actor("community"))
    assert group is not None
    async with a.ctx.storage.read() as session:
        follow = await session.get_follow(c.actor("community"), group.iri)
    assert follow is not None
    sent = await backfill_follower(a.ctx, group, follow.follower_iri, follow.activity_iri)
    assert sent == 0


async def test_listings_announced_before_the_accept_arrives_are_kept(
    nodes: tuple[Node, Node, Node],  # noqa: F811
) -> None:
    """The Accept and the backfill are delivered concurrently, so the Announces
    can be processed first, while our Follow is pending: they are ignored then,
    and processed again once the Accept makes the Follow count."""
    a, _, c = nodes
    alice = await a.member("alice")
    admin_c = await c.member("carol")
    status, _ = await a.api("POST", "/api/v1/listings", alice, json={**LISTING, "title": "Drill"})
    assert status == 201
    await settle(a)
    status, _ = await c.api("POST", "/api/v1/admin/peers", admin_c, json={"host": a.host})
    assert status == 201
    await settle(c)  # c's Follow reaches a's inbox
    await settle(a)  # a accepts and backfills; both reach c's inbox, unprocessed

    async with c.ctx.storage.read() as session:
        received = [await session.get_inbox_activity(seq) for seq in (1, 2)]
    by_type = {item.type: item.seq for item in received if item is not None}
    assert set(by_type) == {"Accept", "Announce"}
    # The Announce first, as when it arrives first.
    await process_inbox_activity(c.ctx, {"seq": by_type["Announce"]})
    async with c.ctx.storage.read() as session:
        announce = await session.get_inbox_activity(by_type["Announce"])
    assert announce is not None
    assert announce.outcome == "ignored: nobody here follows the announcer"
    assert await search_titles(c, "drill") == []

    await settle(c)  # the Accept, then the Announce again
    assert await search_titles(c, "drill") == ["Drill"]
    async with c.ctx.storage.read() as session:
        announce = await session.get_inbox_activity(by_type["Announce"])
    assert announce is not None and announce.outcome == "applied"
