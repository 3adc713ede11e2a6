"""A member moves to another node and keeps followers and reputation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from node.federation.handlers import credential_deletes
from node.services.reputation import counted
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
@pytest.mark.parametrize("withdrawn_first", [False, True],
                         ids=["kept", "withdrawn-before-the-import"])
async def test_member_moves_node_and_keeps_reputation(
    trio: tuple[Node, Node, Node], withdrawn_first: bool
) -> None:
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

    if withdrawn_first:
        # Bob's withdrawal reached the new node before the old one listed it no more
        # (as the credential handlers remember a Delete of a credential not held).
        async with c.ctx.storage.transaction() as tx:
            await credential_deletes.remember(tx, attested["iri"], b.actor("bob"))

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
    # Withdrawn, if its issuer had withdrawn it here: reputation computed on this
    # node does not count it.
    assert (imported[0].withdrawn_at is not None) == withdrawn_first
    assert len(counted(imported)) == (0 if withdrawn_first else 1)
    if withdrawn_first:
        return
    # And on bob's node the reputation of the new account rests on it.
    status, reputation = await b.api("GET", "/api/v1/reputation",
                                     params={"actor": c.actor("alice2")})
    assert reputation["evidence"] == [attested["iri"]] and reputation["count"] == 1
