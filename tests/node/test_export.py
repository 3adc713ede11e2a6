"""A member's data export: everything that is theirs, nothing secret, and the
same document from the API and the account page."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from helpers import json_body, listing_body

from node.services import export
from node.services.context import NodeContext


async def _call(client: TestClient, method: str, path: str, who: Any, **kwargs: Any) -> Any:
    response = await client.request(method, path, headers=who.auth, **kwargs)
    body = await response.json() if response.status != 204 else None
    assert response.status in (200, 201, 204), body
    return body


async def test_the_export_holds_the_members_listings_exchanges_attestations_and_follows(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    bob = await make_member("bob")
    listing = await _call(client, "POST", "/api/v1/listings", alice,
                          json=listing_body(title="Tandem bicycle"))
    deal = await _call(client, "POST", "/api/v1/exchanges", bob, json={"listing": listing["id"]})
    one = f"/api/v1/exchanges/{deal['id']}"
    await _call(client, "POST", one + "/accept", alice)
    await _call(client, "POST", one + "/messages", bob, json={"content": "Saturday at ten?"})
    await _call(client, "POST", one + "/handover", alice)
    await _call(client, "POST", one + "/complete", alice)
    await _call(client, "POST", one + "/complete", bob)
    await _call(client, "POST", one + "/attestation", bob, json={"rating": 5, "comment": "Lovely"})
    await _call(client, "POST", one + "/attestation", alice, json={"rating": 4})
    await _call(client, "POST", "/api/v1/follows", bob,
                json={"target": "alice@127.0.0.1:8080"})

    response = await client.get("/api/v1/me/export", headers=alice.auth)
    document = await json_body(response, 200, "api-export")
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="kula-alice-'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert document["profile"]["username"] == "alice"
    assert [item["title"] for item in document["listings"]] == ["Tandem bicycle"]
    assert document["listings"][0]["proposal"]["type"] == "Proposal"
    [exchange] = document["exchanges"]
    assert exchange["state"] == "completed"
    assert [m["content"] for m in exchange["messages"]] == ["Saturday at ten?"]
    received, given = document["attestations"]["received"], document["attestations"]["given"]
    assert [(a["rating"], a["comment"]) for a in received] == [(5, "Lovely")]
    assert [a["rating"] for a in given] == [4]
    # The signed credential travels with it, so it can be checked without this node.
    assert received[0]["credential"]["proof"]["type"] == "DataIntegrityProof"
    assert [f["actor"] for f in document["follows"]["followers"]] == [
        "http://127.0.0.1:8080/users/bob"
    ]
    assert any(n["exchange"] == deal["id"] for n in document["notifications"])


async def test_the_export_carries_no_secret(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    document = await export.export_member(ctx, alice.member)
    text = json.dumps(document)
    assert alice.member.password_hash and alice.member.password_hash not in text
    assert "PRIVATE KEY" not in text
    assert alice.token not in text
    assert export.export_filename(alice.member, "2025-03-04T05:06:07Z") == (
        "kula-alice-2025-03-04.json"
    )


async def test_the_export_needs_a_token(client: TestClient) -> None:
    response = await client.get("/api/v1/me/export")
    assert response.status == 401
