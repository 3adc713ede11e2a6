"""Three real nodes on loopback: follows, peering, listing propagation, profile
updates, blocks, and a node that is down while others deliver to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.federation.harness import Node, settle
from tests.support import TEST_PASSWORD
from tests.web.account_helpers import form_client

LISTING = {
    "purpose": "offer",
    "mode": "rent",
    "title": "Cordless drill",
    "description": "Two batteries.",
    "categories": ["tools"],
    "price": {"amount": "5.00", "currency": "EUR", "per": "P1D"},
}


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[Node, Node, Node]]:
    a, b, c = (Node(name, tmp_path / name) for name in ("a", "b", "c"))
    for node in (a, b, c):
        await node.start()
    try:
        yield a, b, c
    finally:
        for node in (a, b, c):
            await node.stop()


async def search_titles(node: Node, query: str) -> list[str]:
    status, body = await node.api("GET", f"/api/v1/search?q={query}&status=any")
    assert status == 200, body
    return [item["title"] for item in body["items"]]


@pytest.mark.spec("ActivityPub §7.5 Follow")
async def test_member_follows_a_member_on_another_node(nodes: tuple[Node, Node, Node]) -> None:
    a, b, _ = nodes
    alice = await a.member("alice")
    await b.member("bob")
    status, follow = await a.api(
        "POST", "/api/v1/follows", alice, json={"target": f"bob@{b.host}"}
    )
    assert status == 201, follow
    assert follow["state"] == "pending"
    await settle(a, b)
    status, following = await a.api("GET", "/api/v1/following", alice)
    assert [f["state"] for f in following["items"]] == ["accepted"]
    # Bob's node lists alice among his followers, in his ActivityPub collection too.
    status, collection = await b.api("GET", "/users/bob/followers?page=1")
    assert collection["orderedItems"] == [a.actor("alice")]


async def follower_sees(follower: Node, token: str, handle: str) -> dict:
    """The actor as the follower's node knows it (its cached copy)."""
    status, profile = await follower.api(
        "GET", f"/api/v1/lookup/actor?resource={handle}", token
    )
    assert status == 200, profile
    return profile


async def actor_updates(node: Node, username: str) -> list[dict]:
    status, page = await node.api("GET", f"/users/{username}/outbox?page=true")
    assert status == 200, page
    return [item for item in page["orderedItems"] if item["type"] == "Update"]


async def followed_by_bob(a: Node, b: Node) -> tuple[str, str]:
    """alice on ``a`` with bob on ``b`` following her; bob's node has cached her actor."""
    alice, bob = await a.member("alice", scope="write"), await b.member("bob", scope="write")
    status, follow = await b.api(
        "POST", "/api/v1/follows", bob, json={"target": f"alice@{a.host}"}
    )
    assert status == 201, follow
    await settle(a, b)
    assert (await follower_sees(b, bob, f"alice@{a.host}"))["name"] == "alice"
    return alice, bob


@pytest.mark.spec("ActivityPub §7.3 Update")
async def test_an_edited_profile_is_refreshed_at_followers_nodes(
    nodes: tuple[Node, Node, Node],
) -> None:
    a, b, _ = nodes
    alice, bob = await followed_by_bob(a, b)
    status, changed = await a.api("PATCH", "/api/v1/me", alice, json={
        "display_name": "Alice Liddell", "also_known_as": [f"bob@{b.host}"]})
    assert status == 200, changed
    # One edit, one Update of the whole Person, to the public and her followers.
    [update] = await actor_updates(a, "alice")
    assert update["object"]["type"] == "Person"
    assert update["object"]["name"] == "Alice Liddell"
    assert update["object"]["alsoKnownAs"] == [b.actor("bob")]
    assert update["cc"] == [f"{a.actor('alice')}/followers"]
    await settle(a, b)
    assert (await follower_sees(b, bob, f"alice@{a.host}"))["name"] == "Alice Liddell"

    # An edit that changes nothing in the actor document is not announced.
    status, _ = await a.api("PATCH", "/api/v1/me", alice, json={
        "display_name": "Alice Liddell", "also_known_as": [f"bob@{b.host}"]})
    assert status == 200
    assert len(await actor_updates(a, "alice")) == 1
    async with a.ctx.storage.read() as session:
        assert (await session.count_jobs_by_state()).get("new") is None


@pytest.mark.spec("ActivityPub §7.3 Update")
async def test_a_profile_edited_on_the_account_page_is_refreshed_at_followers_nodes(
    nodes: tuple[Node, Node, Node],
) -> None:
    a, b, _ = nodes
    _, bob = await followed_by_bob(a, b)
    async with form_client(a) as client:
        await client.log_in("alice", TEST_PASSWORD)
        status, body, _ = await client.post(
            "/account/profile", {"display_name": "Alice Liddell", "summary": "Lends tools."}
        )
        assert status == 303, body
    await settle(a, b)
    assert (await follower_sees(b, bob, f"alice@{a.host}"))["name"] == "Alice Liddell"


@pytest.mark.spec("FEP-1b12 Announce")
async def test_listing_reaches_a_partner_community_and_follows_its_changes(
    nodes: tuple[Node, Node, Node],
) -> None:
    a, _, c = nodes
    alice = await a.member("alice")
    admin_c = await c.member("carol")
    status, peer = await c.api("POST", "/api/v1/admin/peers", admin_c, json={"host": a.host})
    assert status == 201, peer
    await settle(a, c)
    status, peers = await c.api("GET", "/api/v1/admin/peers", admin_c)
    assert peers["items"][0]["state"] == "accepted"

    status, listing = await a.api("POST", "/api/v1/listings", alice, json=LISTING)
    assert status == 201, listing
    await settle(a, c)
    status, found = await c.api("GET", "/api/v1/search?q=drill")
    assert [item["title"] for item in found["items"]] == ["Cordless drill"]
    assert found["items"][0]["origin"] == a.host
    assert found["items"][0]["local"] is False

    status, _ = await a.api(
        "PATCH", f"/api/v1/listings/{listing['id']}", alice, json={"title": "Hammer drill"}
    )
    assert status == 200
    await settle(a, c)
    assert await search_titles(c, "drill") == ["Hammer drill"]

    status, _ = await a.api("DELETE", f"/api/v1/listings/{listing['id']}", alice)
    assert status == 204
    await settle(a, c)
    assert await search_titles(c, "drill") == []


@pytest.mark.spec("Kula federation policy: blocks")
async def test_domain_block_takes_effect_at_once(nodes: tuple[Node, Node, Node]) -> None:
    a, _, c = nodes
    alice = await a.member("alice")
    admin_c = await c.member("carol")
    await c.api("POST", "/api/v1/admin/peers", admin_c, json={"host": a.host})
    await settle(a, c)
    await a.api("POST", "/api/v1/listings", alice, json=LISTING)
    await settle(a, c)
    assert await search_titles(c, "drill") == ["Cordless drill"]

    status, _ = await c.api(
        "PUT", f"/api/v1/admin/federation/policies/{a.host}", admin_c, json={"policy": "block"}
    )
    assert status == 200
    # Hidden immediately, before any worker runs.
    assert await search_titles(c, "drill") == []
    # New activity from the blocked host is refused at the inbox.
    await a.api("POST", "/api/v1/listings", alice, json={**LISTING, "title": "Saw"})
    await settle(a, c)
    assert await search_titles(c, "saw") == []
    status, purged = await c.api(
        "POST", f"/api/v1/admin/federation/policies/{a.host}/purge", admin_c
    )
    assert status == 200 and purged["listings_removed"] == 1


@pytest.mark.spec("Kula delivery: retries")
async def test_delivery_to_a_node_that_is_down_completes_when_it_returns(
    nodes: tuple[Node, Node, Node],
) -> None:
    a, b, _ = nodes
    alice = await a.member("alice")
    bob = await b.member("bob")
    await b.api("POST", "/api/v1/follows", bob, json={"target": f"alice@{a.host}"})
    await settle(a, b)
    await b.stop()
    await a.api("POST", "/api/v1/listings", alice, json=LISTING)
    await settle(a)
    status, queue = await a.api("GET", "/api/v1/admin/queue", alice)
    assert status == 200 and queue["deliveries"].get("retrying") == 1, queue
    await b.start()
    # Make the retry due now instead of waiting for the backoff.
    async with a.ctx.storage.transaction() as tx:
        await tx._exec("UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00Z'"
                       " WHERE state = 'retrying'")
    await settle(a, b)
    assert await search_titles(b, "drill") == ["Cordless drill"]
    status, queue = await a.api("GET", "/api/v1/admin/queue", alice)
    assert status == 200 and queue["deliveries"].get("retrying") is None
