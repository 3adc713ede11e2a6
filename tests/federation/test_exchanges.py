"""Exchanges between members of two real nodes: both nodes agree on the state
after every step, and the final Agreement carries both parties' proofs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from node.errors import NodeError
from node.federation.handlers.exchange import handle_offer, signed_by
from node.keys import load_ed25519_private
from node.services.actors import member_actor
from node.services.exchange_terms import Terms, build_agreement, takes_offers
from node.timeutil import now_text
from protocol import builders
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle

START = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
RENTAL = {
    "purpose": "offer", "mode": "rent", "title": "Cordless drill",
    "price": {"amount": "5.00", "currency": "EUR", "per": "P1D"},
    "deposit": {"amount": "50", "currency": "EUR"},
}


def at(days: int) -> str:
    return (START + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


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


async def exchange_on(node: Node, token: str) -> dict[str, Any]:
    status, body = await node.api("GET", "/api/v1/exchanges", token)
    assert status == 200, body
    [exchange] = body["items"]
    return exchange


async def act(node: Node, token: str, exchange_id: str, action: str, **body: Any) -> dict:
    status, result = await node.api(
        "POST", f"/api/v1/exchanges/{exchange_id}/{action}", token, json=body or None
    )
    assert status == 200, result
    return result


async def both_states(a: Node, alice: str, b: Node, bob: str) -> tuple[str, str]:
    return (await exchange_on(a, alice))["state"], (await exchange_on(b, bob))["state"]


async def listed_on_a(a: Node, b: Node, alice: str, bob: str, listing: dict) -> dict:
    status, body = await a.api("POST", "/api/v1/listings", alice, json=listing)
    assert status == 201, body
    status, remote = await b.api(
        "GET", "/api/v1/lookup/listing", bob, params={"iri": body["iri"]}
    )
    assert status == 200, remote
    return body


@pytest.mark.spec("FEP-0837 Offer/Accept and Kula lifecycle: rental across two nodes")
async def test_rental_across_two_nodes(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice, bob = await a.member("alice"), await b.member("bob")
    listing = await listed_on_a(a, b, alice, bob, RENTAL)

    status, offered = await b.api("POST", "/api/v1/exchanges", bob, json={
        "listing": listing["iri"], "start": at(0), "end": at(2), "message": "Weekend?",
    })
    assert status == 201, offered
    await settle(a, b)
    assert await both_states(a, alice, b, bob) == ("offered", "offered")
    on_a = await exchange_on(a, alice)
    assert on_a["role"] == "proposer" and "accept" in on_a["actions"]
    assert on_a["agreement"]["stipulatesReciprocal"]["resourceQuantity"]["hasNumericalValue"] \
        == "10.00"

    await act(a, alice, on_a["id"], "counter", start=at(0), end=at(2), price="4.00")
    await settle(a, b)
    assert await both_states(a, alice, b, bob) == ("countered", "countered")
    on_b = await exchange_on(b, bob)
    assert on_b["agreement"]["stipulatesReciprocal"]["resourceQuantity"]["hasNumericalValue"] \
        == "8.00"

    await act(b, bob, on_b["id"], "accept")
    await settle(a, b)
    assert await both_states(a, alice, b, bob) == ("agreed", "agreed")
    final = (await exchange_on(a, alice))["agreement"]
    assert await signed_by(a.ctx, final, [a.actor("alice"), b.actor("bob")]) == {
        a.actor("alice"), b.actor("bob")
    }
    status, listed = await a.api("GET", f"/api/v1/listings/{listing['id']}")
    assert listed["booked"] == [{"start": at(0), "end": at(2)}]
    # The booking federated: B's copy of the listing shows it too.
    status, remote = await b.api(
        "GET", "/api/v1/lookup/listing", bob, params={"iri": listing["iri"]}
    )
    assert remote["booked"] == [{"start": at(0), "end": at(2)}]

    steps = [(a, alice, "handover", ("on_loan", "on_loan")),
             (b, bob, "return", ("returned", "returned")),
             (a, alice, "complete", ("completed_by_proposer", "completed_by_proposer")),
             (b, bob, "complete", ("completed", "completed"))]
    for node, token, action, expected in steps:
        mine = await exchange_on(node, token)
        await act(node, token, mine["id"], action)
        await settle(a, b)
        assert await both_states(a, alice, b, bob) == expected, action
    status, listed = await a.api("GET", f"/api/v1/listings/{listing['id']}")
    assert listed["booked"] == [] and listed["status"] == "available"

    # Both attest; each node then holds both attestations, with the roles played.
    for node, token, rating in ((a, alice, 5), (b, bob, 4)):
        mine = await exchange_on(node, token)
        status, issued = await node.api(
            "POST", f"/api/v1/exchanges/{mine['id']}/attestation", token, json={"rating": rating}
        )
        assert status == 201, issued
    await settle(a, b)
    for node, username in ((a, "alice"), (b, "bob")):
        status, held = await node.api("GET", f"/api/v1/members/{username}/attestations")
        roles = {(x["issuer_role"], x["subject_role"], x["rating"])
                 for x in held["received"] + held["given"]}
        assert roles == {("owner", "renter", 5), ("renter", "owner", 4)}

    status, notes = await a.api("GET", "/api/v1/notifications", alice)
    kinds = [n["summary"].split(" ", 1)[1] for n in notes["items"]]
    assert "made an offer" in kinds and "confirmed the return" in kinds


@pytest.mark.spec("Kula exchanges: messages between the parties")
async def test_private_messages_reach_only_the_other_party(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice, bob = await a.member("alice"), await b.member("bob")
    listing = await listed_on_a(a, b, alice, bob, {
        "purpose": "offer", "mode": "give", "title": "Toy box"})
    status, offered = await b.api("POST", "/api/v1/exchanges", bob, json={
        "listing": listing["iri"]})
    await settle(a, b)
    status, sent = await b.api(
        "POST", f"/api/v1/exchanges/{offered['id']}/messages", bob,
        json={"content": "Can I pick it up <b>today</b>?"},
    )
    assert status == 201, sent
    await settle(a, b)
    on_a = await exchange_on(a, alice)
    status, messages = await a.api("GET", f"/api/v1/exchanges/{on_a['id']}/messages", alice)
    assert [m["content"] for m in messages["items"]] == ["Can I pick it up <b>today</b>?"]
    async with a.ctx.storage.read() as session:
        activity = await session.get_activity_document_by_iri(sent["iri"])
    assert activity is None  # the note lives on B only; A holds the message row


@pytest.mark.spec("Kula exchanges: the last item cannot be promised twice")
async def test_double_acceptance_of_the_last_item_is_refused(tmp_path: Path) -> None:
    a = await Node("a", tmp_path / "a").start()
    try:
        alice, bob, carol = [await a.member(name) for name in ("alice", "bob", "carol")]
        status, listing = await a.api("POST", "/api/v1/listings", alice, json={
            "purpose": "offer", "mode": "sell", "title": "Bike",
            "price": {"amount": "40", "currency": "EUR"}})
        ids = []
        for buyer in (bob, carol):
            status, offered = await a.api("POST", "/api/v1/exchanges", buyer,
                                          json={"listing": listing["id"]})
            assert status == 201, offered
            ids.append(offered["id"])
        await act(a, alice, ids[0], "accept")
        status, refused = await a.api("POST", f"/api/v1/exchanges/{ids[1]}/accept", alice)
        assert status == 409 and "reserved" in refused["detail"]
        status, state = await a.api("GET", f"/api/v1/exchanges/{ids[1]}", carol)
        assert state["state"] == "offered"
        status, listed = await a.api("GET", f"/api/v1/listings/{listing['id']}")
        assert listed["status"] == "reserved" and listed["quantity"] == 0
        await act(a, alice, ids[0], "cancel", content="Changed my mind")
        status, listed = await a.api("GET", f"/api/v1/listings/{listing['id']}")
        assert listed["status"] == "available" and listed["quantity"] == 1
    finally:
        await a.stop()


@pytest.mark.spec("Kula exchanges: out-of-order and wrong-party activities")
async def test_out_of_order_and_wrong_party_actions_are_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice, bob = await a.member("alice"), await b.member("bob")
    listing = await listed_on_a(a, b, alice, bob, {
        "purpose": "offer", "mode": "swap", "title": "Board game", "wanted": "Puzzle"})
    status, offered = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"]})
    await settle(a, b)
    status, refused = await b.api("POST", f"/api/v1/exchanges/{offered['id']}/accept", bob)
    assert status == 409 and refused["type"].endswith("exchange-state-conflict")
    status, refused = await b.api("POST", f"/api/v1/exchanges/{offered['id']}/handover", bob)
    assert status == 409
    status, refused = await b.api(
        "POST", f"/api/v1/exchanges/{offered['id']}/cancel", bob, json={"content": ""}
    )
    assert status in (409, 422)
    assert await both_states(a, alice, b, bob) == ("offered", "offered")


@pytest.mark.spec("Kula exchanges: a swap across two nodes")
async def test_swap_across_two_nodes(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice, bob = await a.member("alice"), await b.member("bob")
    listing = await listed_on_a(a, b, alice, bob, {
        "purpose": "offer", "mode": "swap", "title": "Board game", "wanted": "A puzzle"})
    status, offered = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"], "message": "My 1000-piece?"})
    assert status == 201, offered
    assert offered["agreement"]["stipulatesReciprocal"]["satisfies"] == \
        f"{listing['iri']}#reciprocal"
    await settle(a, b)
    steps = [(a, alice, "accept", ("agreed", "agreed")),
             (b, bob, "handover", ("handed_over", "handed_over")),
             (b, bob, "complete", ("completed_by_responder", "completed_by_responder")),
             (a, alice, "complete", ("completed", "completed"))]
    for node, token, action, expected in steps:
        mine = await exchange_on(node, token)
        await act(node, token, mine["id"], action)
        await settle(a, b)
        assert await both_states(a, alice, b, bob) == expected, action
    status, listed = await a.api("GET", f"/api/v1/listings/{listing['id']}")
    assert listed["status"] == "completed" and listed["quantity"] == 0



@pytest.mark.spec("Kula SPEC §8.2: an offer the listing's node cannot take is rejected back")
async def test_an_offer_on_a_listing_withdrawn_since_is_rejected_back(
    pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice, bob = await a.member("alice"), await b.member("bob")
    listing = await listed_on_a(a, b, alice, bob, {
        "purpose": "offer", "mode": "give", "title": "Desk lamp"})
    # Alice withdraws it; B has not heard (nobody there follows her), so B's
    # copy still takes offers and Bob's goes out.
    status, _ = await a.api("POST", f"/api/v1/listings/{listing['id']}/withdrawal", alice)
    assert status == 200
    status, offered = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"]})
    assert status == 201, offered
    await settle(a, b)
    status, on_a = await a.api("GET", "/api/v1/exchanges", alice)
    assert status == 200 and on_a["items"] == [], on_a
    on_b = await exchange_on(b, bob)
    assert (on_b["state"], on_b["reason"]) == ("rejected", "the listing is withdrawn"), on_b
    async with a.ctx.storage.read() as session:
        refused = await session._all(
            "SELECT outcome, outcome_detail FROM inbox_activities WHERE type = 'Offer'")
    assert [(r["outcome"], r["outcome_detail"]) for r in refused] == [
        ("rejected", "the listing is withdrawn")]
    async with b.ctx.storage.read() as session:
        answered = await session._all(
            "SELECT outcome FROM inbox_activities WHERE type = 'Reject'")
    assert [r["outcome"] for r in answered] == ["applied: reject"]
    status, notes = await b.api("GET", "/api/v1/notifications", bob)
    assert any(n["summary"].endswith("declined the offer") for n in notes["items"]), notes


async def crafted_offer(
    a: Node, b: Node, listing_iri: str, n: int, *, signer: str = "bob"
) -> dict[str, Any]:
    """An Offer{Agreement} by B's bob on A's listing, as B sends it, with the
    Agreement signed by ``signer``'s key."""
    async with a.ctx.storage.read() as session:
        listing = await session.get_listing_by_iri(listing_iri)
    async with b.ctx.storage.read() as session:
        member = await session.get_member_by_username(signer)
    assert listing is not None and member is not None
    key_holder = member_actor(b.ctx, member)
    agreement = sign_object(
        build_agreement(listing, Terms(), agreement_iri=f"{b.url}/agreements/crafted-{n}",
                        responder_iri=b.actor("bob")),
        load_ed25519_private(key_holder.ed25519_private_pem), key_holder.ed25519_key_id,
    )
    return builders.offer(
        id=f"{b.url}/activities/crafted-{n}", actor=b.actor("bob"), agreement=agreement,
        in_reply_to=listing_iri, context=listing_iri, to=[listing.author_iri],
        published=now_text(),
    )


@pytest.mark.spec("Kula SPEC §8.2: one rule for offers from here and from other nodes")
async def test_the_api_and_the_inbox_refuse_offers_on_the_same_listings(
    pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice, carol = await a.member("alice"), await a.member("carol")
    await b.member("bob")
    await b.member("mallory")
    status, listing = await a.api("POST", "/api/v1/listings", alice, json={
        "purpose": "offer", "mode": "give", "title": "Bookshelf"})
    assert status == 201, listing
    cases = [(status, None) for status in ("available", "reserved", "completed", "withdrawn",
                                           "expired")]
    cases.append(("available", now_text()))  # deleted
    for n, (listing_status, deleted_at) in enumerate(cases):
        async with a.ctx.storage.transaction() as tx:
            current = await tx.get_listing_by_iri(listing["iri"])
            assert current is not None
            current = replace(current, status=listing_status, deleted_at=deleted_at)
            await tx.update_listing(current)
        status, local = await a.api("POST", "/api/v1/exchanges", carol,
                                    json={"listing": listing["id"]})
        inbound: str | NodeError
        try:
            inbound = await handle_offer(a.ctx, await crafted_offer(a, b, listing["iri"], n))
        except NodeError as exc:
            inbound = exc
        case = (listing_status, deleted_at)
        if takes_offers(current):
            assert status == 201 and inbound == "applied: offer", (case, local, inbound)
        else:
            assert isinstance(inbound, NodeError), (case, inbound)
            assert (status, local["detail"]) == (inbound.status, inbound.detail), case
    async with a.ctx.storage.read() as session:
        rejects = await session._all("SELECT object_iri FROM activities WHERE type = 'Reject'")
    refused = {f"{b.url}/activities/crafted-{n}" for n, (listing_status, deleted_at)
               in enumerate(cases) if deleted_at or listing_status not in ("available",
                                                                            "reserved")}
    assert sorted(r["object_iri"] for r in rejects) == sorted(refused)
    # A forged Offer (the Agreement signed by another key than its sender's) is
    # only refused: no Reject goes to an actor who may never have sent it.
    async with a.ctx.storage.transaction() as tx:
        current = await tx.get_listing_by_iri(listing["iri"])
        assert current is not None
        await tx.update_listing(replace(current, status="withdrawn", deleted_at=None))
    forged = await crafted_offer(a, b, listing["iri"], len(cases), signer="mallory")
    with pytest.raises(NodeError, match="not signed by its sender"):
        await handle_offer(a.ctx, forged)
    async with a.ctx.storage.read() as session:
        assert len(await session._all(
            "SELECT id FROM activities WHERE type = 'Reject'")) == len(refused)


async def set_listed_quantity(node: Node, listing_iri: str, quantity: int) -> None:
    """Make ``node``'s copy of the listing hold ``quantity``, as if it had heard
    of a change the other node has not (or its rules were another's)."""
    async with node.ctx.storage.transaction() as tx:
        current = await tx.get_listing_by_iri(listing_iri)
        assert current is not None
        await tx.update_listing(replace(current, fields={**current.fields, "quantity": quantity}))


@pytest.mark.spec("Kula SPEC §8.2: a counter-offer the listing does not allow is rejected back")
@pytest.mark.parametrize("countering", ["proposer", "responder"])
async def test_a_counter_offer_the_listing_does_not_allow_is_rejected_back(
    pair: tuple[Node, Node], countering: str
) -> None:
    a, b = pair
    alice, bob = await a.member("alice"), await b.member("bob")
    listing = await listed_on_a(a, b, alice, bob, {
        "purpose": "offer", "mode": "give", "title": "Jam jars", "quantity": 3})
    status, offered = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"], "quantity": 1})
    assert status == 201, offered
    await settle(a, b)
    if countering == "proposer":
        # Alice's node lets her ask for five; Bob's copy of the listing holds three.
        sender, sender_token, receiver, receiver_token = a, alice, b, bob
        await set_listed_quantity(a, listing["iri"], 5)
    else:
        # Bob's node lets him ask for five; Alice's listing holds three.
        sender, sender_token, receiver, receiver_token = b, bob, a, alice
        await set_listed_quantity(b, listing["iri"], 5)
        await act(a, alice, (await exchange_on(a, alice))["id"], "counter", quantity=2)
        await settle(a, b)
        assert await both_states(a, alice, b, bob) == ("countered", "countered")
    before = await exchange_on(receiver, receiver_token)

    mine = await exchange_on(sender, sender_token)
    await act(sender, sender_token, mine["id"], "counter", quantity=5)
    await settle(a, b)

    reason = "between 1 and 3 can be asked for"
    on_receiver = await exchange_on(receiver, receiver_token)
    on_sender = await exchange_on(sender, sender_token)
    # The counter never stands on the receiving node: it is declined there at
    # once, and the sender's node, told so, ends the exchange the same way.
    assert on_receiver["state"] != ("countered" if countering == "proposer" else "offered")
    assert (on_receiver["state"], on_receiver["reason"]) == ("rejected", reason), on_receiver
    assert (on_sender["state"], on_sender["reason"]) == ("rejected", reason), on_sender
    assert [e["type"] for e in on_receiver["events"]][len(before["events"]):] == [
        "Offer", "Reject"]
    async with receiver.ctx.storage.read() as session:
        counters = await session._all(
            "SELECT outcome, outcome_detail FROM inbox_activities WHERE type = 'Offer'")
    assert (counters[-1]["outcome"], counters[-1]["outcome_detail"]) == ("rejected", reason)
    async with sender.ctx.storage.read() as session:
        answered = await session._all(
            "SELECT outcome FROM inbox_activities WHERE type = 'Reject'")
    assert [r["outcome"] for r in answered] == ["applied: reject"]

    # The responder may try again after the rejection, and counters the listing
    # allows still go through on both nodes.
    await act(b, bob, (await exchange_on(b, bob))["id"], "counter", quantity=3)
    await settle(a, b)
    assert await both_states(a, alice, b, bob) == ("offered", "offered")
    await act(a, alice, (await exchange_on(a, alice))["id"], "counter", quantity=2)
    await settle(a, b)
    assert await both_states(a, alice, b, bob) == ("countered", "countered")
    assert (await exchange_on(b, bob))["quantity"] == 2
