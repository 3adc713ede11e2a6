"""Vouches across real nodes (SPEC §11.4): issued on one node, verified and
kept by the subject's node and the issuer's followers, counted as trust edges,
and gone everywhere once revoked; forged ones are refused."""

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
from protocol.builders.vouches import vouch_credential
from protocol.httpsig import sign_request
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle


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


async def reputation(node: Node, actor: str) -> dict[str, Any]:
    status, body = await node.api("GET", "/api/v1/reputation", params={"actor": actor})
    assert status == 200, body
    return body


async def vouches_of(node: Node, username: str) -> dict[str, list[str]]:
    status, body = await node.api("GET", f"/api/v1/members/{username}/vouches")
    assert status == 200, body
    return {side: [v["iri"] for v in body[side]] for side in ("received", "given")}


@pytest.mark.spec("Kula SPEC §11.4: vouches")
async def test_a_remote_vouch_counts_until_it_is_revoked(trio: tuple[Node, Node, Node]) -> None:
    a, b, c = trio
    alice, bob, carol = await a.member("alice"), await b.member("bob"), await c.member("carol")
    status, _ = await c.api("POST", "/api/v1/follows", carol, json={"target": f"bob@{b.host}"})
    await settle(b, c)
    assert (await reputation(b, a.actor("alice")))["trust"] == 0.0

    status, vouch = await b.api("POST", "/api/v1/vouches", bob,
                                json={"subject": f"alice@{a.host}"})
    assert status == 201, vouch
    assert (vouch["issuer"], vouch["subject"]) == (b.actor("bob"), a.actor("alice"))
    status, again = await b.api("POST", "/api/v1/vouches", bob,
                                json={"subject": a.actor("alice")})
    assert status == 409, again
    await settle(a, b, c)

    # The subject's node and the issuer's follower's node verified and kept it.
    assert (await vouches_of(a, "alice"))["received"] == [vouch["iri"]]
    async with c.ctx.storage.read() as session:
        assert [v.iri for v in await session.vouches_about(a.actor("alice"))] == [vouch["iri"]]
    # It is dereferenceable, signed by bob.
    status, document = await b.api("GET", vouch["iri"].removeprefix(b.url))
    assert status == 200 and document["proof"]["verificationMethod"].startswith(b.actor("bob"))

    # On A it is evidence; on B, where bob is trusted, it gives alice trust.
    on_a = await reputation(a, a.actor("alice"))
    assert [(v["id"], v["issuer"]) for v in on_a["vouches"]] == [(vouch["iri"], b.actor("bob"))]
    on_b = await reputation(b, a.actor("alice"))
    assert on_b["trust"] > 0.0
    assert on_b["vouches"][0]["issuer_trust"] >= 1.0
    # alice vouching back gives bob trust on A, so his vouch for her carries weight there.
    status, back = await a.api("POST", "/api/v1/vouches", alice,
                               json={"subject": f"bob@{b.host}"})
    assert status == 201, back
    await settle(a, b, c)
    assert (await reputation(a, b.actor("bob")))["trust"] > 0.0
    [counted] = (await reputation(a, a.actor("alice")))["vouches"]
    assert counted["issuer_trust"] > 0.0

    status, _ = await b.api("DELETE", f"/api/v1/vouches/{vouch['id']}", bob)
    assert status == 204
    status, _ = await b.api("DELETE", f"/api/v1/vouches/{vouch['id']}", bob)
    assert status == 409
    await settle(a, b, c)
    assert (await vouches_of(a, "alice"))["received"] == []
    assert (await reputation(a, a.actor("alice")))["vouches"] == []
    assert (await reputation(b, a.actor("alice")))["trust"] == 0.0
    async with c.ctx.storage.read() as session:
        assert await session.vouches_about(a.actor("alice")) == []
    status, gone = await b.api("GET", vouch["iri"].removeprefix(b.url))
    assert status == 410, gone


async def inbox_seqs(node: Node) -> dict[str, int]:
    """The seq of each inbox activity by type (one of each is expected)."""
    async with node.ctx.storage.read() as session:
        rows = await session._all("SELECT seq, type FROM inbox_activities ORDER BY seq")
    return {row["type"]: row["seq"] for row in rows}


async def inbox_outcomes(node: Node) -> dict[str, str | None]:
    async with node.ctx.storage.read() as session:
        rows = await session._all("SELECT type, outcome FROM inbox_activities ORDER BY seq")
    return {row["type"]: row["outcome"] for row in rows}


@pytest.mark.spec("Kula SPEC §11.4: vouches")
async def test_a_revocation_that_overtakes_its_vouch_still_revokes_it(
    trio: tuple[Node, Node, Node],
) -> None:
    """Deliveries run concurrently, so the Delete can be processed before the
    Create: it is remembered, and the vouch that comes after is kept as revoked."""
    a, b, _ = trio
    await a.member("alice")
    bob = await b.member("bob")
    status, vouch = await b.api("POST", "/api/v1/vouches", bob,
                                json={"subject": f"alice@{a.host}"})
    assert status == 201, vouch
    status, _ = await b.api("DELETE", f"/api/v1/vouches/{vouch['id']}", bob)
    assert status == 204
    await settle(b)  # both reach a's inbox, unprocessed

    await process_inbox_activity(a.ctx, {"seq": (await inbox_seqs(a))["Delete"]})
    await settle(a)  # then the Create
    assert (await vouches_of(a, "alice"))["received"] == []
    assert (await reputation(a, a.actor("alice")))["vouches"] == []
    assert await inbox_outcomes(a) == {
        "Create": "applied: vouch, revoked before it arrived",
        "Delete": "applied: remembered, deleted before it arrived",
    }
    async with a.ctx.storage.read() as session:
        kept = await session.get_vouch(vouch["iri"])
    # Kept, marked revoked, so a late copy cannot bring it back either.
    assert kept is not None and kept.revoked_at is not None


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


def signed_vouch(issuer: LocalActor, subject: str, n: str, **changes: Any) -> dict[str, Any]:
    base = issuer.iri.rsplit("/users/", 1)[0]
    document = vouch_credential(id=f"{base}/vouches/forged-{n}", issuer=issuer.iri,
                                subject=subject)
    document["credentialSubject"].update(changes)
    return sign_object(
        document, load_ed25519_private(issuer.ed25519_private_pem), issuer.ed25519_key_id
    )


def create_of(actor: LocalActor, document: dict[str, Any], n: str) -> dict[str, Any]:
    base = actor.iri.rsplit("/users/", 1)[0]
    return builders.create(id=f"{base}/activities/vouch-{n}", actor=actor.iri, object=document,
                           to=["https://www.w3.org/ns/activitystreams#Public"])


@pytest.mark.spec("Kula SPEC §11.4: what a receiver must reject")
async def test_forged_vouches_and_revocations_are_refused(trio: tuple[Node, Node, Node]) -> None:
    a, b, _ = trio
    await a.member("alice")
    await b.member("bob")
    await b.member("mallory")
    bob, mallory = await actor_of(b, "bob"), await actor_of(b, "mallory")
    alice = a.actor("alice")

    tampered = signed_vouch(bob, alice, "1")
    tampered["credentialSubject"]["id"] = a.actor("somebody")
    by_another = signed_vouch(bob, alice, "2")
    misattributed = signed_vouch(bob, alice, "3", knownBy=mallory.iri)
    for n, (signer, document) in enumerate(
        ((bob, tampered), (mallory, by_another), (bob, misattributed)), start=1
    ):
        assert await post_signed(a, signer, create_of(signer, document, str(n))) == 202
    genuine = signed_vouch(bob, alice, "4")
    assert await post_signed(a, bob, create_of(bob, genuine, "4")) == 202
    revoke = builders.delete(id=f"{b.url}/activities/revoke-4", actor=mallory.iri,
                             object=genuine["id"], to=[alice])
    assert await post_signed(a, mallory, revoke) == 202
    # Nor can anyone but its issuer revoke a vouch before it arrives.
    early = signed_vouch(bob, alice, "5")
    early_revoke = builders.delete(id=f"{b.url}/activities/revoke-5", actor=mallory.iri,
                                   object=early["id"], to=[alice])
    assert await post_signed(a, mallory, early_revoke) == 202
    assert await post_signed(a, bob, create_of(bob, early, "5")) == 202
    await settle(a, b)

    async with a.ctx.storage.read() as session:
        rows = await session._all(
            "SELECT type, outcome, outcome_detail FROM inbox_activities ORDER BY seq"
        )
        kept = await session.vouches_about(alice)
    results = [(row["type"], row["outcome"], row["outcome_detail"] or "") for row in rows]
    assert [outcome for _, outcome, _ in results] == ["rejected"] * 3 + [
        "applied: vouch", "rejected", "applied: remembered, deleted before it arrived",
        "applied: vouch",
    ], results
    assert "proof" in results[0][2].lower() or "signature" in results[0][2].lower()
    assert "issuer" in results[1][2]
    assert "knownBy" in results[2][2]
    assert "issuer" in results[4][2]
    assert [v.iri for v in kept] == [genuine["id"], early["id"]]
