"""Reports across real nodes (SPEC §12): a member of one node reports another
node's listing; the operator forwards it as a Flag from the node's instance
actor, and the listing's node turns it into a report for its own operators.
And a community renamed by its operator is renamed at its partners."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.federation.harness import Node, settle

PHONES = {"purpose": "offer", "mode": "sell", "title": "Cheap phones",
          "price": {"amount": "20.00", "currency": "EUR"}}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    nodes = [Node(name, tmp_path / name) for name in ("hill", "valley")]
    for node in nodes:
        await node.start()
    try:
        yield nodes[0], nodes[1]
    finally:
        for node in nodes:
            await node.stop()


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_forwarded_report_arrives_as_a_report_on_the_listings_node(
    pair: tuple[Node, Node],
) -> None:
    hill, valley = pair
    hill_admin, bob = await hill.member("olga"), await hill.member("bob", scope="write")
    valley_admin, mallory = await valley.member("vera"), await valley.member("mallory",
                                                                            scope="write")
    status, listing = await valley.api("POST", "/api/v1/listings", mallory,
                                       json=PHONES)
    assert status == 201, listing
    # Hill learns of the listing (as a member looking it up would), and bob reports it.
    status, _ = await hill.api("GET", "/api/v1/lookup/listing", bob,
                               params={"iri": listing["iri"]})
    assert status == 200
    status, filed = await hill.api("POST", "/api/v1/reports", bob, json={
        "kind": "listing", "target": listing["iri"], "reason": "fraud",
        "comment": "Looks like stolen goods."})
    assert status == 201, filed
    assert filed["actions"] == ["dismiss", "resolve", "block", "forward"]

    status, forwarded = await hill.api("POST", f"/api/v1/admin/reports/{filed['id']}/resolve",
                                       hill_admin, json={"action": "forward"})
    assert status == 200, forwarded
    await settle(hill, valley)

    status, delivered = await hill.api("GET", "/api/v1/admin/queue", hill_admin)
    assert delivered["deliveries"] == {"delivered": 1}, delivered
    status, received = await valley.api("GET", "/api/v1/admin/reports", valley_admin)
    assert status == 200, received
    [report] = received["items"]
    assert (report["kind"], report["target"]) == ("listing", listing["iri"])
    assert report["target_actor"] == valley.actor("mallory")
    # From hill's instance actor: bob's identity stays on hill.
    assert report["reporter"] == f"{hill.url}/actor"
    assert report["comment"] == "Looks like stolen goods."
    assert report["local"] is True and "hide" in report["actions"]

    # Valley's operator acts on it like any other report.
    status, hidden = await valley.api(
        "POST", f"/api/v1/admin/reports/{report['id']}/resolve", valley_admin,
        json={"action": "hide"})
    assert status == 200 and hidden["state"] == "resolved", hidden
    status, shown = await valley.api("GET", f"/api/v1/listings/{listing['id']}")
    assert shown["status"] == "withdrawn"


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_report_only_for_the_operators_of_the_node_that_holds_it(
    pair: tuple[Node, Node],
) -> None:
    hill, valley = pair
    bob = await hill.member("bob", scope="write")
    # Hill never heard of this listing: nothing to report.
    status, refused = await hill.api("POST", "/api/v1/reports", bob, json={
        "kind": "listing", "target": f"{valley.url}/listings/unknown", "reason": "spam"})
    assert status == 404, refused


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_renamed_community_is_renamed_at_its_partners(pair: tuple[Node, Node]) -> None:
    hill, valley = pair
    hill_admin, valley_admin = await hill.member("olga"), await valley.member("vera")
    status, peer = await hill.api("POST", "/api/v1/admin/peers", hill_admin,
                                  json={"host": valley.host})
    assert status == 201, peer
    await settle(hill, valley)
    status, changed = await valley.api("PATCH", "/api/v1/admin/community", valley_admin,
                                       json={"name": "Valley tool library"})
    assert status == 200, changed
    await settle(hill, valley)
    # Hill's partner community is the Group that follows it; its copy is refreshed.
    async with hill.ctx.storage.read() as session:
        group = await session.get_remote_actor(peer["group"])
    assert group is not None and group.document["name"] == "Valley tool library"
