"""Attestations after a completed exchange across nodes: issued, delivered,
verified by a third node, and forged or unrelated ones refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from node.federation.processing import process_inbox_activity
from node.keys import load_ed25519_private, load_rsa_private
from node.services.actors import LocalActor, local_actor_by_iri
from protocol import builders
from protocol.httpsig import sign_request
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle

SALE = {"purpose": "offer", "mode": "sell", "title": "Sewing machine",
        "price": {"amount": "30", "currency": "EUR"}}


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


async def mine(node: Node, token: str) -> dict[str, Any]:
    status, body = await node.api("GET", "/api/v1/exchanges", token)
    assert status == 200
    return body["items"][0]


async def completed_sale(a: Node, b: Node, alice: str, bob: str) -> dict[str, Any]:
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=SALE)
    await b.api("GET", "/api/v1/lookup/listing", bob, params={"iri": listing["iri"]})
    status, offered = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"]})
    assert status == 201, offered
    await settle(a, b)
    for node, token, action in ((a, alice, "accept"), (a, alice, "handover"),
                                (a, alice, "complete"), (b, bob, "complete")):
        exchange = await mine(node, token)
        status, body = await node.api(
            "POST", f"/api/v1/exchanges/{exchange['id']}/{action}", token
        )
        assert status == 200, (action, body)
        await settle(a, b)
    return await mine(b, bob)


async def actor_of(node: Node, username: str) -> LocalActor:
    local = await local_actor_by_iri(node.ctx, node.actor(username))
    assert local is not None
    return local


async def post_signed(target: Node, signer: LocalActor, activity: dict[str, Any]) -> int:
    body = json.dumps(activity).encode()
    headers = sign_request(
        "POST", f"{target.url}/inbox", {"Content-Type": "application/activity+json"}, body,
        key_id=signer.rsa_key_id, private_key=load_rsa_private(signer.rsa_private_pem),
    )
    assert target.session is not None
    async with target.session.post("/inbox", data=body, headers=headers) as response:
        return response.status


def credential(issuer: LocalActor, subject: str, agreement: str, rating: int, n: str) -> dict:
    document = builders.exchange_attestation(
        id=f"{issuer.iri.rsplit('/users/', 1)[0]}/attestations/forged-{n}", issuer=issuer.iri,
        subject=subject, agreement=agreement, subject_role="seller", issuer_role="buyer",
        rating=rating,
    )
    return sign_object(
        document, load_ed25519_private(issuer.ed25519_private_pem), issuer.ed25519_key_id
    )


def create_of(actor: LocalActor, document: dict[str, Any], n: str) -> dict[str, Any]:
    base = actor.iri.rsplit("/users/", 1)[0]
    return builders.create(id=f"{base}/activities/att-{n}", actor=actor.iri, object=document,
                           to=["https://www.w3.org/ns/activitystreams#Public"])


async def outcomes(node: Node) -> list[tuple[str, str | None]]:
    async with node.ctx.storage.read() as session:
        rows = await session._all(
            "SELECT outcome, outcome_detail FROM inbox_activities WHERE type = 'Create'"
            " ORDER BY seq"
        )
    return [(row["outcome"], row["outcome_detail"]) for row in rows]


@pytest.mark.spec("Kula SPEC §11: attestations bound to a completed agreement")
async def test_attestations_are_issued_verified_and_weighed(
    trio: tuple[Node, Node, Node],
) -> None:
    a, b, c = trio
    alice, bob, carol = await a.member("alice"), await b.member("bob"), await c.member("carol")
    await c.api("POST", "/api/v1/follows", carol, json={"target": f"bob@{b.host}"})
    await settle(b, c)
    exchange = await completed_sale(a, b, alice, bob)
    assert exchange["state"] == "completed"

    status, issued = await b.api(
        "POST", f"/api/v1/exchanges/{exchange['id']}/attestation", bob,
        json={"rating": 5, "comment": "Works perfectly"},
    )
    assert status == 201, issued
    assert (issued["issuer_role"], issued["subject_role"]) == ("buyer", "seller")
    alice_exchange = await mine(a, alice)
    status, _ = await a.api("POST", f"/api/v1/exchanges/{alice_exchange['id']}/attestation",
                            alice, json={"rating": 4})
    assert status == 201
    await settle(a, b, c)

    # Both parties' nodes hold both attestations; the third node, bob's follower's, holds his.
    status, on_a = await a.api("GET", "/api/v1/members/alice/attestations")
    assert [x["rating"] for x in on_a["received"]] == [5]
    assert [x["rating"] for x in on_a["given"]] == [4]
    async with c.ctx.storage.read() as session:
        held = await session.attestations_about([a.actor("alice")])
    assert [x.iri for x in held] == [issued["iri"]]

    # On bob's node alice's reputation rests on bob's rating (bob is a member there).
    status, reputation = await b.api("GET", "/api/v1/reputation",
                                     params={"actor": a.actor("alice")})
    assert status == 200, reputation
    assert reputation["count"] == 1 and reputation["evidence"] == [issued["iri"]]
    assert reputation["low"] < reputation["score"] < reputation["high"]

    # A revision supersedes; the reputation then counts only the new one.
    status, revised = await b.api(
        "POST", f"/api/v1/exchanges/{exchange['id']}/attestation", bob, json={"rating": 3}
    )
    assert revised["supersedes"] == issued["iri"]
    status, reputation = await b.api("GET", "/api/v1/reputation",
                                     params={"actor": a.actor("alice")})
    assert reputation["evidence"] == [revised["iri"]]


@pytest.mark.spec("Kula SPEC §11.2: what a receiver must reject")
async def test_forged_unrelated_and_unsigned_attestations_are_refused(
    trio: tuple[Node, Node, Node],
) -> None:
    a, b, c = trio
    alice, bob = await a.member("alice"), await b.member("bob")
    await c.member("carol")
    exchange = await completed_sale(a, b, alice, bob)
    agreement = exchange["agreement"]["id"]
    bob_actor = await actor_of(b, "bob")
    mallory_token = await b.member("mallory")
    assert mallory_token
    mallory = await actor_of(b, "mallory")

    tampered = credential(bob_actor, a.actor("alice"), agreement, 5, "1")
    tampered["credentialSubject"]["rating"] = 1
    unrelated = credential(mallory, a.actor("alice"), agreement, 1, "2")
    status, listing = await a.api("POST", "/api/v1/listings", alice, json={
        **SALE, "title": "Second machine"})
    assert status == 201
    await b.api("GET", "/api/v1/lookup/listing", bob, params={"iri": listing["iri"]})
    status, pending = await b.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["iri"]})
    only_offered = credential(bob_actor, a.actor("alice"), pending["agreement"]["id"], 5, "3")
    for n, (signer, document) in enumerate(
        ((bob_actor, tampered), (mallory, unrelated), (bob_actor, only_offered)), start=1
    ):
        assert await post_signed(c, signer, create_of(signer, document, str(n))) == 202
    await settle(a, b, c)
    results = await outcomes(c)
    assert [outcome for outcome, _ in results] == ["rejected"] * 3, results
    assert "proof" in (results[0][1] or "").lower() or "signature" in (results[0][1] or "")
    assert "parties" in (results[1][1] or "")
    async with c.ctx.storage.read() as session:
        assert await session.attestations_about([a.actor("alice")]) == []


@pytest.mark.spec("Kula SPEC §11: the subject answers an attestation in public")
async def test_subject_answers_an_attestation_across_nodes(
    trio: tuple[Node, Node, Node],
) -> None:
    a, b, _ = trio
    alice, bob = await a.member("alice"), await b.member("bob")
    exchange = await completed_sale(a, b, alice, bob)
    status, issued = await b.api(
        "POST", f"/api/v1/exchanges/{exchange['id']}/attestation", bob,
        json={"rating": 2, "comment": "Late"},
    )
    await settle(a, b)
    status, answered = await a.api("POST", "/api/v1/attestation-replies", alice, json={
        "attestation": issued["iri"], "content": "The bus was cancelled, sorry!"})
    assert status == 201, answered
    await settle(a, b)
    status, on_b = await b.api("GET", "/api/v1/members/bob/attestations")
    assert on_b["given"][0]["reply"]["content"] == "The bus was cancelled, sorry!"
    status, refused = await b.api("POST", "/api/v1/attestation-replies", bob, json={
        "attestation": issued["iri"], "content": "I answer my own?"})
    assert status == 404 and refused["type"].endswith("not-found")


@pytest.mark.spec("Kula SPEC §11.3: withdrawal")
async def test_a_withdrawal_that_overtakes_its_attestation_still_withdraws_it(
    trio: tuple[Node, Node, Node],
) -> None:
    """The Delete processed before the Create is remembered; the attestation
    that comes after is kept as withdrawn and does not count for reputation."""
    a, b, _ = trio
    alice, bob = await a.member("alice"), await b.member("bob")
    exchange = await completed_sale(a, b, alice, bob)
    # alice's rating of bob makes his ratings carry weight on her node.
    status, _ = await a.api("POST", f"/api/v1/exchanges/{(await mine(a, alice))['id']}"
                            "/attestation", alice, json={"rating": 4})
    assert status == 201
    await settle(a, b)
    async with a.ctx.storage.read() as session:
        already = (await session._one("SELECT max(seq) AS n FROM inbox_activities"))["n"]

    status, issued = await b.api(
        "POST", f"/api/v1/exchanges/{exchange['id']}/attestation", bob, json={"rating": 1}
    )
    assert status == 201, issued
    status, _ = await b.api(
        "DELETE", f"/api/v1/attestations/{issued['iri'].rsplit('/', 1)[-1]}", bob
    )
    assert status == 204
    await settle(b)  # both reach a's inbox, unprocessed
    async with a.ctx.storage.read() as session:
        rows = await session._all(
            "SELECT seq, type FROM inbox_activities WHERE seq > ? ORDER BY seq", (already,)
        )
    arrived = {row["type"]: row["seq"] for row in rows}
    assert set(arrived) == {"Create", "Delete"}

    await process_inbox_activity(a.ctx, {"seq": arrived["Delete"]})
    await settle(a)  # then the Create
    status, reputation = await a.api("GET", "/api/v1/reputation",
                                     params={"actor": a.actor("alice")})
    assert status == 200, reputation
    assert reputation["evidence"] == [] and reputation["count"] == 0
    async with a.ctx.storage.read() as session:
        create = await session.get_inbox_activity(arrived["Create"])
        kept = await session.get_attestation(issued["iri"])
    assert create is not None
    assert create.outcome == "applied: attestation, withdrawn before it arrived"
    # Kept, marked withdrawn: it still supersedes whatever it revised.
    assert kept is not None and kept.withdrawn_at is not None
