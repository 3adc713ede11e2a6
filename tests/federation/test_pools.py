"""Pooled pledges between two real nodes: A's member publishes a pool, B's
members pledge, progress federates back to B, a pledge is withdrawn, and at
the deadline both nodes show the same verified outcome and the pledgers are
told. Time is driven through the worker step, never waited for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from node.errors import Forbidden
from node.federation.handlers.pools import handle_pool_activity
from node.federation.remote_actors import RemoteActors
from node.keys import load_ed25519_private
from node.services import pool_settlement
from node.services.actors import member_actor
from node.services.exchange_terms import Terms, build_agreement
from node.services.outbox import publish_activity
from node.services.pool_terms import NotAPool, PledgeOutOfBounds, PoolClosed
from node.timeutil import later_text, now_text, parse_text
from node.workers.runner import run_once
from protocol import builders
from protocol.builders.listing import measure
from protocol.builders.pools import pledge as pledge_builder
from protocol.builders.pools import pledge_offer
from protocol.currency import currency_iri
from protocol.pools import verify_outcome
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle

DEADLINE = later_text(hours=6)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a, b = Node("a", tmp_path / "a"), Node("b", tmp_path / "b")
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


def pool_listing(goal: str) -> dict[str, Any]:
    return {
        "purpose": "request", "mode": "give", "title": "Community cider press",
        "pool": {"goal": {"kind": "money", "amount": goal, "currency": "EUR"},
                 "deadline": DEADLINE, "receives": "A share in the press",
                 "maximum_pledge": "200"},
    }


async def published_on_a(a: Node, b: Node, alice: str, bob: str, goal: str) -> tuple[dict, dict]:
    """A's pool, and B's copy of it (looked up by IRI, as a member would)."""
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=pool_listing(goal))
    assert status == 201, listing
    status, remote = await b.api("GET", "/api/v1/lookup/listing", bob,
                                 params={"iri": listing["iri"]})
    assert status == 200, remote
    return listing, remote


async def pool_on(node: Node, listing_id: str, token: str | None = None) -> dict[str, Any]:
    status, body = await node.api("GET", f"/api/v1/listings/{listing_id}/pool", token)
    assert status == 200, body
    return body


async def pledge(node: Node, token: str, listing_id: str, amount: str) -> dict[str, Any]:
    status, body = await node.api("POST", f"/api/v1/listings/{listing_id}/pledges", token,
                                  json={"amount": amount})
    assert status == 201, body
    return body


async def pool_notes(node: Node, token: str) -> list[str]:
    status, body = await node.api("GET", "/api/v1/notifications", token)
    assert status == 200, body
    return [n["summary"] for n in body["items"] if n["kind"] == "pool"]


async def close_at_deadline(a: Node, b: Node) -> None:
    after = parse_text(DEADLINE) + timedelta(seconds=1)
    assert await pool_settlement.settle_due(a.ctx, now=after) == 1
    await settle(a, b)


@pytest.mark.spec("Kula SPEC §18: a pool across two nodes succeeds")
async def test_pledges_from_another_node_make_a_pool_succeed(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice = await a.member("alice")
    bob, carol, dave = [await b.member(name) for name in ("bob", "carol", "dave")]
    listing, remote = await published_on_a(a, b, alice, bob, "200.00")

    bobs = await pledge(b, bob, remote["id"], "120.00")
    carols = await pledge(b, carol, remote["id"], "50")
    await settle(a, b)
    on_a = await pool_on(a, listing["id"])
    assert (on_a["pledged"], on_a["pledge_count"]) == ("170.00", 2)
    on_b = await pool_on(b, remote["id"], bob)
    assert (on_b["local"], on_b["pledged"], on_b["pledge_count"]) == (False, "170.00", 2)
    assert on_b["your_pledges"][0]["state"] == "live"

    status, withdrawn = await b.api(
        "DELETE", f"/api/v1/listings/{remote['id']}/pledges/{carols['id']}", carol)
    assert status == 200 and withdrawn["state"] == "withdrawn", withdrawn
    await settle(a, b)
    assert (await pool_on(a, listing["id"]))["pledged"] == "120.00"
    assert (await pool_on(b, remote["id"]))["pledged"] == "120.00"
    davids = await pledge(b, dave, remote["id"], "85.50")
    await settle(a, b)
    assert (await pool_on(b, remote["id"]))["pledged"] == "205.50"

    await close_at_deadline(a, b)
    on_a = await pool_on(a, listing["id"])
    on_b = await pool_on(b, remote["id"], bob)
    assert on_a["state"] == on_b["state"] == "succeeded"
    assert on_a["outcome"]["document"] == on_b["outcome"]["document"]
    assert on_a["outcome_iri"] == on_b["outcome_iri"] == on_a["outcome"]["iri"]
    commitments = {(c["pledge"], c["pledger"], c["amount"]) for c in on_b["outcome"]["commitments"]}
    assert commitments == {(bobs["iri"], b.actor("bob"), "120.00"),
                           (davids["iri"], b.actor("dave"), "85.50")}
    # B verifies the outcome itself, against alice's key as B knows it.
    author = await RemoteActors(b.ctx).get(a.actor("alice"))
    verify_outcome(on_b["outcome"]["document"], author.document, proposal_id=listing["iri"])
    assert on_b["your_pledges"][0]["state"] == "committed"
    for token in (bob, dave):
        assert any("is now a commitment" in n for n in await pool_notes(b, token))
    assert await pool_notes(b, carol) == []
    assert any("reached its goal" in n for n in await pool_notes(a, alice))
    status, shown = await b.api("GET", f"/api/v1/listings/{remote['id']}")
    assert shown["status"] == "completed"


@pytest.mark.spec("Kula SPEC §18: a pool across two nodes fails and releases every pledge")
async def test_a_missed_goal_releases_the_pledges_on_every_node(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    # Outcomes travel by id here: B fetches the signed outcome from A and verifies it.
    monkeypatch.setattr(pool_settlement, "EMBED_OUTCOME_MAX_ENTRIES", 0)
    alice = await a.member("alice")
    bob, carol = await b.member("bob"), await b.member("carol")
    listing, remote = await published_on_a(a, b, alice, bob, "500.00")
    made = [await pledge(b, token, remote["id"], "100") for token in (bob, carol)]
    await settle(a, b)

    await close_at_deadline(a, b)
    on_a = await pool_on(a, listing["id"])
    on_b = await pool_on(b, remote["id"], carol)
    assert on_a["state"] == on_b["state"] == "failed"
    assert on_b["outcome"]["document"] == on_a["outcome"]["document"]
    assert set(on_b["outcome"]["released"]) == {pledge["iri"] for pledge in made}
    assert on_b["outcome"]["commitments"] == [] and on_b["pledged"] == "200"
    assert on_b["your_pledges"][0]["state"] == "released"
    for token in (bob, carol):
        assert any("was released" in n for n in await pool_notes(b, token))
    # Too late: B refuses a new pledge from its own knowledge of the deadline.
    status, refused = await b.api("POST", f"/api/v1/listings/{remote['id']}/pledges", bob,
                                  json={"amount": "5"})
    assert status == 409 and refused["type"].endswith("pool-closed"), refused


@pytest.mark.spec("Kula SPEC §18.2: refused pledges are answered")
async def test_a_pledge_the_proposer_refuses_is_marked_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice = await a.member("alice")
    bob = await b.member("bob")
    listing, remote = await published_on_a(a, b, alice, bob, "300.00")
    # Alice withdraws her listing; B has not heard (nobody there follows her)
    # and still sends the pledge.
    status, _ = await a.api("POST", f"/api/v1/listings/{listing['id']}/withdrawal", alice)
    assert status == 200
    made = await pledge(b, bob, remote["id"], "20")
    await settle(a, b)
    on_b = await pool_on(b, remote["id"], bob)
    assert on_b["your_pledges"][0]["state"] == "refused"
    assert "no more pledges" in (on_b["your_pledges"][0]["reason"] or "")
    assert (await pool_on(a, listing["id"]))["pledge_count"] == 0
    async with a.ctx.storage.read() as session:
        rows = await session._all(
            "SELECT outcome FROM inbox_activities WHERE type = 'Offer'")
    assert [row["outcome"] for row in rows] == ["rejected"]
    assert made["state"] == "live"


@pytest.mark.spec("Kula SPEC §18.2: pledges from a host blocked since are not counted")
async def test_a_pledge_from_a_host_blocked_after_sending_is_rejected(
    pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice = await a.member("alice")
    bob = await b.member("bob")
    listing, remote = await published_on_a(a, b, alice, bob, "300.00")
    await pledge(b, bob, remote["id"], "20")
    await run_once(b.ctx)  # B fans the Offer out and delivers it; A stores it, unprocessed
    async with a.ctx.storage.read() as session:
        assert await session.count_inbox_activities(type="Offer") == 1
    status, body = await a.api("PUT", f"/api/v1/admin/federation/policies/{b.host}", alice,
                               json={"policy": "block"})
    assert status == 200, body
    await settle(a, b)
    async with a.ctx.storage.read() as session:
        rows = await session._all("SELECT outcome, outcome_detail FROM inbox_activities")
    assert [(r["outcome"], "does not federate" in r["outcome_detail"]) for r in rows] == [
        ("rejected", True)]
    assert (await pool_on(a, listing["id"]))["pledge_count"] == 0


async def signed_offer(b: Node, username: str, listing: dict[str, Any], amount: str, n: int,
                       *, signer: str | None = None) -> dict[str, Any]:
    """An Offer{Pledge} as B's member would send it, signed by ``signer``'s key."""
    async with b.ctx.storage.read() as session:
        member = await session.get_member_by_username(signer or username)
    assert member is not None
    key = load_ed25519_private(member_actor(b.ctx, member).ed25519_private_pem)
    author = b.actor(username)
    document = sign_object(
        pledge_builder(id=f"{b.url}/pledges/crafted-{n}", author=author,
                       proposal_id=listing["iri"],
                       quantity=measure(unit="one", value=amount), currency=currency_iri("EUR")),
        key, f"{author}#ed25519-key",
    )
    return pledge_offer(id=f"{b.url}/activities/crafted-{n}", actor=author, pledge=document,
                        proposal_id=listing["iri"], to=[listing["author"]])


@pytest.mark.spec("Kula SPEC §18.2: what the proposer's node refuses, and what it answers")
async def test_inbound_pledges_that_cannot_count_are_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice = await a.member("alice")
    bob, _ = await b.member("bob"), await b.member("mallory")
    listing, _ = await published_on_a(a, b, alice, bob, "300.00")
    status, plain = await a.api("POST", "/api/v1/listings", alice, json={
        "purpose": "offer", "mode": "give", "title": "Chairs"})
    assert status == 201, plain
    cases = [
        (await signed_offer(b, "bob", plain, "10", 1), NotAPool, True),
        (await signed_offer(b, "bob", listing, "250", 2), PledgeOutOfBounds, True),
        (await signed_offer(b, "bob", listing, "10", 3, signer="mallory"), Forbidden,
         False),
    ]
    for offer, error, answered in cases:
        with pytest.raises(error):
            await handle_pool_activity(a.ctx, offer)
        async with a.ctx.storage.read() as session:
            rejects = await session._all(
                "SELECT document FROM activities WHERE type = 'Reject' AND object_iri = ?",
                (offer["id"],))
        assert len(rejects) == (1 if answered else 0), offer["id"]
    assert (await pool_on(a, listing["id"]))["pledge_count"] == 0
    counted = await signed_offer(b, "bob", listing, "20", 4)
    assert await handle_pool_activity(a.ctx, counted) == "applied: pledge"
    await pool_settlement.settle_due(a.ctx, now=parse_text(DEADLINE) + timedelta(seconds=1))
    with pytest.raises(PoolClosed):
        await handle_pool_activity(a.ctx, await signed_offer(b, "bob", listing, "5", 5))


@pytest.mark.spec("Kula SPEC §18: a pool takes pledges, not exchange offers")
async def test_an_exchange_offer_on_a_pool_is_refused_on_both_nodes(
    pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice = await a.member("alice")
    bob = await b.member("bob")
    listing, _ = await published_on_a(a, b, alice, bob, "300.00")
    # B's API refuses from its own copy of the listing.
    status, refused = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"]})
    assert status == 422 and refused["type"].endswith("/pool-takes-no-offers"), refused
    # A node that does not know pools sends a genuine, signed Offer{Agreement}
    # anyway: A refuses it as any offer its listing cannot take, and says why.
    async with b.ctx.storage.transaction() as tx:
        copy = await tx.get_listing_by_iri(listing["iri"])
        member = await tx.get_member_by_username("bob")
        assert copy is not None and member is not None
        actor = member_actor(b.ctx, member)
        agreement = sign_object(
            build_agreement(copy, Terms(), agreement_iri=f"{b.url}/agreements/crafted",
                            responder_iri=actor.iri),
            load_ed25519_private(actor.ed25519_private_pem), actor.ed25519_key_id,
        )
        await publish_activity(b.ctx, tx, actor, builders.offer(
            id=f"{b.url}/activities/crafted-offer", actor=actor.iri, agreement=agreement,
            in_reply_to=listing["iri"], context=listing["iri"], to=[listing["author"]],
            published=now_text(),
        ))
    await settle(a, b)
    async with a.ctx.storage.read() as session:
        rows = await session._all(
            "SELECT outcome, outcome_detail FROM inbox_activities WHERE type = 'Offer'")
        answers = await session._all(
            "SELECT type, object_iri FROM activities WHERE type IN ('Accept', 'Reject')")
    assert [(row["outcome"], "is a pool" in (row["outcome_detail"] or "")) for row in rows] == [
        ("rejected", True)]
    assert [(row["type"], row["object_iri"]) for row in answers] == [
        ("Reject", f"{b.url}/activities/crafted-offer")]
    status, on_a = await a.api("GET", "/api/v1/exchanges", alice)
    assert status == 200 and on_a["items"] == [], on_a
