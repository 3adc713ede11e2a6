"""Hostile inbound requests against a real node's inbox: each is refused with
the right status and leaves nothing behind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from node.keys import load_ed25519_private, load_rsa_private
from node.services.actors import LocalActor, local_actor_by_iri
from node.storage import create_storage
from node.storage.records import HostPolicy
from protocol import builders
from protocol.httpsig import sign_request
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle


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


async def remote_member(b: Node, username: str) -> LocalActor:
    await b.member(username)
    local = await local_actor_by_iri(b.ctx, b.actor(username))
    assert local is not None
    return local


def proposal(b: Node, author: LocalActor, *, listing_id: str = "l1") -> dict[str, Any]:
    iri = f"{b.url}/listings/{listing_id}"
    document = builders.proposal(
        id=iri, author=author.iri, purpose="offer", exchange_mode="give", name="Free chairs",
        content="<p>Two chairs</p>", to=["https://www.w3.org/ns/activitystreams#Public"],
        publishes=builders.primary_intent(
            proposal_id=iri, author=author.iri, purpose="offer", exchange_mode="give",
            resource_quantity=builders.measure(unit="one", value="2"),
        ),
    )
    return sign_object(
        document, load_ed25519_private(author.ed25519_private_pem), author.ed25519_key_id
    )


def create(b: Node, author: LocalActor, obj: dict[str, Any], activity_id: str = "c1") -> dict:
    return builders.create(
        id=f"{b.url}/activities/{activity_id}", actor=author.iri, object=obj,
        to=["https://www.w3.org/ns/activitystreams#Public"],
    )


def signed_post(
    a: Node, signer: LocalActor, activity: dict[str, Any], *,
    key: rsa.RSAPrivateKey | None = None, now: datetime | None = None, body: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(activity).encode() if body is None else body
    headers = sign_request(
        "POST", f"{a.url}/inbox", {"Content-Type": "application/activity+json"}, payload,
        key_id=signer.rsa_key_id, private_key=key or load_rsa_private(signer.rsa_private_pem),
        now=now,
    )
    return payload, headers


async def post(a: Node, payload: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    assert a.session is not None
    async with a.session.post("/inbox", data=payload, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def stored_count(a: Node) -> tuple[int, int]:
    async with a.ctx.storage.read() as session:
        inbound = await session.count_inbox_activities()
        rows = await session._one("SELECT count(*) AS n FROM listings")
    return inbound, int(rows["n"]) if rows else 0


async def test_a_valid_create_is_accepted_as_a_baseline(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    alice_token = await a.member("alice")
    await a.api("POST", "/api/v1/follows", alice_token, json={"target": bob.iri})
    await settle(a, b)
    payload, headers = signed_post(a, bob, create(b, bob, proposal(b, bob)))
    status, body = await post(a, payload, headers)
    assert status == 202, body
    await settle(a)
    assert (await stored_count(a))[1] == 1


@pytest.mark.spec("draft-cavage-12 §2: unsigned request")
async def test_unsigned_request_is_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    payload = json.dumps(create(b, bob, proposal(b, bob))).encode()
    status, body = await post(a, payload, {"Content-Type": "application/activity+json"})
    assert status == 401 and body["reason"] == "missing-signature"
    assert await stored_count(a) == before


@pytest.mark.spec("ActivityPub §B.1 origin: signer must be the actor")
async def test_activity_signed_by_someone_else_is_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    carol = await remote_member(b, "carol")
    before = await stored_count(a)
    forged = create(b, carol, proposal(b, carol))
    status, body = await post(a, *signed_post(a, bob, forged))
    assert status == 401 and "not by the activity's actor" in body["detail"]
    assert await stored_count(a) == before


@pytest.mark.spec("draft-cavage-12 §3.1.2: signature verification")
async def test_signature_with_the_wrong_key_is_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    status, body = await post(a, *signed_post(a, bob, create(b, bob, {}), key=other_key))
    assert status == 401 and body["reason"] == "bad-signature"
    assert await stored_count(a) == before


@pytest.mark.spec("Kula inbox: replay protection")
async def test_replayed_activity_and_stale_date_are_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    activity = builders.follow(id=f"{b.url}/activities/f1", actor=bob.iri, object=a.actor("x"))
    await a.member("x")
    payload, headers = signed_post(a, bob, activity)
    assert (await post(a, payload, headers))[0] == 202
    after_first = await stored_count(a)
    status, body = await post(a, payload, headers)
    assert status == 409 and body["type"].endswith("duplicate-activity")
    stale = datetime.now(UTC) - timedelta(minutes=30)
    other = {**activity, "id": f"{b.url}/activities/f2"}
    status, body = await post(a, *signed_post(a, bob, other, now=stale))
    assert status == 401 and body["reason"] == "date-out-of-window"
    assert await stored_count(a) == after_first


@pytest.mark.spec("draft-cavage-12 §2.3: the Host header is signed")
async def test_a_delivery_signed_for_another_server_is_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    # A genuine delivery bob's node made to some other server, replayed to a.
    activity = create(b, bob, proposal(b, bob))
    payload = json.dumps(activity).encode()
    headers = sign_request(
        "POST", "https://elsewhere.example/inbox", {"Content-Type": "application/activity+json"},
        payload, key_id=bob.rsa_key_id, private_key=load_rsa_private(bob.rsa_private_pem),
    )
    assert headers["Host"] == "elsewhere.example"
    status, body = await post(a, payload, headers)
    assert status == 421 and body["type"].endswith("misdirected-request"), body
    assert await stored_count(a) == before
    # The same delivery addressed to a is taken.
    assert (await post(a, *signed_post(a, bob, activity)))[0] == 202


@pytest.mark.spec("RFC 3230 Digest: body changed after signing")
async def test_body_changed_after_signing_is_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    payload, headers = signed_post(a, bob, create(b, bob, proposal(b, bob)))
    tampered = payload.replace(b"Free chairs", b"Free chairz")
    status, body = await post(a, tampered, headers)
    assert status == 401 and body["reason"] == "digest-mismatch"
    assert await stored_count(a) == before


@pytest.mark.spec("draft-cavage-12 §2.1: malformed signature parameters")
@pytest.mark.parametrize(("field", "reason"), [
    ("Signature", "malformed-header"), ("Digest", "malformed-digest"),
])
async def test_non_ascii_in_base64_fields_is_refused_not_a_crash(
    pair: tuple[Node, Node], field: str, reason: str
) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    payload, headers = signed_post(a, bob, create(b, bob, proposal(b, bob)))
    if field == "Signature":
        start = headers["Signature"].index('signature="') + len('signature="')
        headers["Signature"] = headers["Signature"][:start] + "é" + headers["Signature"][start:]
    else:
        headers["Digest"] = "SHA-256=é" + headers["Digest"].removeprefix("SHA-256=")
    status, body = await post(a, payload, headers)
    assert status == 401 and body["reason"] == reason
    assert await stored_count(a) == before


@pytest.mark.spec("ActivityPub §B.1 origin: ids on the actor's origin")
async def test_activity_id_on_another_origin_is_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    activity = {**create(b, bob, proposal(b, bob)), "id": "http://elsewhere.example/act/1"}
    status, body = await post(a, *signed_post(a, bob, activity))
    assert status == 403 and "origin" in body["detail"]
    unsigned_object = {**proposal(b, bob), "id": f"{a.url}/listings/stolen"}
    del unsigned_object["proof"]
    status, body = await post(a, *signed_post(a, bob, create(b, bob, unsigned_object, "c2")))
    assert status == 403 and "proof" in body["detail"]
    assert await stored_count(a) == before


@pytest.mark.spec("Kula inbox: limits and malformed bodies")
async def test_oversized_and_malformed_bodies_are_refused(pair: tuple[Node, Node]) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    before = await stored_count(a)
    huge = b'{"a": "' + b"x" * (a.ctx.settings.max_body_bytes + 10) + b'"}'
    status, body = await post(a, *signed_post(a, bob, {}, body=huge))
    assert status == 413
    for bad in (b'{"id": 1,', b'{"a": NaN}', b'{"a": 1, "a": 2}', b"[]"):
        status, body = await post(a, *signed_post(a, bob, {}, body=bad))
        assert 400 <= status < 500 and status != 404, (bad, status, body)
        assert body["type"].startswith("https://kula.community/problems/")
    assert await stored_count(a) == before


@pytest.mark.spec("Kula federation policy: blocks")
async def test_blocked_host_is_refused_and_unsupported_type_recorded(
    pair: tuple[Node, Node],
) -> None:
    a, b = pair
    bob = await remote_member(b, "bob")
    like = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Like",
            "id": f"{b.url}/activities/like1", "actor": bob.iri, "object": a.url}
    status, body = await post(a, *signed_post(a, bob, like))
    assert status == 422 and body["type"].endswith("unsupported-activity")
    inbound, _ = await stored_count(a)
    assert inbound == 1
    operator = await a.member("operator")
    await a.api("PUT", f"/api/v1/admin/federation/policies/{b.host}", operator,
                json={"policy": "block"})
    status, body = await post(a, *signed_post(a, bob, {**like, "id": f"{b.url}/act/2"}))
    assert status == 403
    assert (await stored_count(a))[0] == 1


@pytest.mark.spec("Kula federation policy: blocks")
async def test_a_block_made_by_another_process_stops_storage_at_once(
    pair: tuple[Node, Node],
) -> None:
    """The inbox screens hosts from a policy memory that another process's
    change reaches only after a moment; until then the check in the storing
    transaction refuses the activity, so nothing from the host is kept."""
    a, b = pair
    bob = await remote_member(b, "bob")
    like = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Like",
            "id": f"{b.url}/activities/like1", "actor": bob.iri, "object": a.url}
    status, _ = await post(a, *signed_post(a, bob, like))
    assert status == 422  # recorded: the memory now holds "no policy for b"
    other_process = create_storage(a.ctx.settings)
    await other_process.open()
    try:
        async with other_process.transaction() as tx:
            await tx.set_host_policy(HostPolicy(b.host, "block", "", "2026-01-01T00:00:00Z"))
    finally:
        await other_process.close()
    status, body = await post(a, *signed_post(a, bob, {**like, "id": f"{b.url}/act/2"}))
    assert status == 403, body
    assert body["detail"] == f"this node does not federate with {b.host}"
    assert (await stored_count(a))[0] == 1
