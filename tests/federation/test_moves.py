"""A member moves to another node and keeps followers and reputation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.federation.harness import Node, settle
from tests.federation.test_attestations import completed_sale


@pytest.fixture
async def trio(tmp_path: Path) -> AsyncIterator[tuple[Node, Node, Node]]:
    nodes = [Node(name, tmp_path / name) for name in ("a", "b", "c")]
    for node in nodes:
        await node.start()
    try:
        yield nodes[0], nodes[1], nodes[2]
    finally:
        for node in nodes:
            await node.stop()


@pytest.mark.spec("ActivityPub Move with alsoKnownAs: reputation survives a move")
async def test_member_moves_node_and_keeps_reputation(trio: tuple[Node, Node, Node]) -> None:
    a, b, c = trio
    alice, bob = await a.member("alice"), await b.member("bob")
    alice2 = await c.member("alice2")
    status, _ = await b.api("POST", "/api/v1/follows", bob, json={"target": f"alice@{a.host}"})
    assert status == 201
    await settle(a, b)
    exchange = await completed_sale(a, b, alice, bob)
    status, attested = await b.api(
        "POST", f"/api/v1/exchanges/{exchange['id']}/attestation", bob, json={"rating": 5}
    )
    assert status == 201
    await settle(a, b)

    # The move is refused until the new account names the old one.
    status, refused = await a.api("POST", "/api/v1/me/move", alice,
                                  json={"target": f"alice2@{c.host}"})
    assert status == 403, refused
    status, _ = await c.api("PATCH", "/api/v1/me", alice2,
                            json={"also_known_as": [f"alice@{a.host}"]})
    assert status == 200
    status, moved = await a.api("POST", "/api/v1/me/move", alice,
                                json={"target": f"alice2@{c.host}"})
    assert status == 200, moved
    assert moved["moved_to"] == c.actor("alice2")
    await settle(a, b, c)

    status, old_actor = await a.api("GET", "/users/alice")
    assert old_actor["movedTo"] == c.actor("alice2")
    # Bob's node moved his follow to the new account.
    status, following = await b.api("GET", "/api/v1/following", bob)
    assert [(f["followee"], f["state"]) for f in following["items"]] == [
        (c.actor("alice2"), "accepted")
    ]
    # The new node imported and re-verified the attestation about the old account.
    async with c.ctx.storage.read() as session:
        imported = await session.attestations_about([a.actor("alice")])
    assert [record.iri for record in imported] == [attested["iri"]]
    # And on bob's node the reputation of the new account rests on it.
    status, reputation = await b.api("GET", "/api/v1/reputation",
                                     params={"actor": c.actor("alice2")})
    assert reputation["evidence"] == [attested["iri"]] and reputation["count"] == 1
