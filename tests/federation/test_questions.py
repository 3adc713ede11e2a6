"""Public questions on listings across real nodes: asked on one node, relayed
by the listing's author to every node holding the listing, answered, and
hidden everywhere by the author (SPEC §7.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.federation.harness import Node, settle

GIFT = {"purpose": "offer", "mode": "give", "title": "Children's bike",
        "description": "Blue, 16 inch."}


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


async def held_id(node: Node, token: str, iri: str) -> str:
    """The node's own id of a listing it holds (fetched on demand if needed)."""
    status, listing = await node.api("GET", "/api/v1/lookup/listing", token, params={"iri": iri})
    assert status == 200, listing
    return listing["id"]


async def shown(node: Node, listing_id: str) -> list[dict[str, Any]]:
    status, body = await node.api("GET", f"/api/v1/listings/{listing_id}/questions")
    assert status == 200, body
    return body["items"]


async def follow(node: Node, token: str, handle: str, *others: Node) -> None:
    status, body = await node.api("POST", "/api/v1/follows", token, json={"target": handle})
    assert status == 201, body
    await settle(node, *others)


@pytest.mark.spec("Kula SPEC §7.1: questions reach every node holding the listing")
async def test_question_answer_and_hide_travel_to_every_holder(
    trio: tuple[Node, Node, Node],
) -> None:
    a, b, c = trio
    alice, bob, carol = await a.member("alice"), await b.member("bob"), await c.member("carol")
    await follow(c, carol, f"alice@{a.host}", a)
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=GIFT)
    assert status == 201, listing
    await settle(a, c)
    on_b, on_c = await held_id(b, bob, listing["iri"]), await held_id(c, carol, listing["iri"])

    status, asked = await b.api("POST", f"/api/v1/listings/{on_b}/questions", bob,
                                json={"content": "Does it come with <b>stabilisers</b>?"})
    assert status == 201, asked
    assert asked["author"] == b.actor("bob") and asked["answer"] is None
    await settle(a, b, c)

    for node, listing_id in ((a, listing["id"]), (b, on_b), (c, on_c)):
        items = await shown(node, listing_id)
        assert [(q["iri"], q["content"]) for q in items] == [
            (asked["iri"], "Does it come with <b>stabilisers</b>?")
        ], node.name
    # The author's node serves the question in the listing's replies collection.
    status, collection = await a.api("GET", f"/listings/{listing['id']}/replies")
    assert status == 200 and collection["orderedItems"] == [asked["iri"]]
    status, notes = await a.api("GET", "/api/v1/notifications", alice)
    assert [n["kind"] for n in notes["items"]] == ["question"]

    [on_a] = await shown(a, listing["id"])
    status, refused = await b.api("POST", f"/api/v1/questions/{asked['id']}/answer", bob,
                                  json={"content": "I answer for alice?"})
    assert status == 403, refused
    status, answered = await a.api("POST", f"/api/v1/questions/{on_a['id']}/answer", alice,
                                   json={"content": "Yes, both."})
    assert status == 200, answered
    await settle(a, b, c)
    for node, listing_id in ((a, listing["id"]), (b, on_b), (c, on_c)):
        [item] = await shown(node, listing_id)
        assert item["answer"] is not None, node.name
        assert (item["answer"]["author"], item["answer"]["content"]) == (
            a.actor("alice"), "Yes, both."
        )
    status, notes = await b.api("GET", "/api/v1/notifications", bob)
    assert [n["kind"] for n in notes["items"]] == ["answer"]

    status, hidden = await a.api("POST", f"/api/v1/questions/{on_a['id']}/hide", alice)
    assert status == 200 and hidden["hidden"] is True
    await settle(a, b, c)
    for node, listing_id in ((a, listing["id"]), (b, on_b), (c, on_c)):
        assert await shown(node, listing_id) == [], node.name
    status, collection = await a.api("GET", f"/listings/{listing['id']}/replies")
    assert collection["orderedItems"] == []
    status, own = await a.api("GET", f"/api/v1/listings/{listing['id']}/questions", alice,
                              params={"include_hidden": "true"})
    assert status == 200 and [q["hidden"] for q in own["items"]] == [True]

    # Shown again, it comes back everywhere, with its answer.
    status, _ = await a.api("POST", f"/api/v1/questions/{on_a['id']}/unhide", alice)
    assert status == 200
    await settle(a, b, c)
    for node, listing_id in ((a, listing["id"]), (b, on_b), (c, on_c)):
        [item] = await shown(node, listing_id)
        assert item["answer"]["content"] == "Yes, both.", node.name


@pytest.mark.spec("Kula SPEC §7.1: a community relays its members' questions")
async def test_partner_community_sees_questions_through_its_peer(
    trio: tuple[Node, Node, Node],
) -> None:
    a, b, c = trio
    alice, bob, carol = await a.member("alice"), await b.member("bob"), await c.member("carol")
    status, _ = await c.api("POST", "/api/v1/admin/peers", carol, json={"host": a.host})
    assert status == 201
    await settle(a, c)
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=GIFT)
    await settle(a, c)
    status, found = await c.api("GET", "/api/v1/search", params={"q": "bike"})
    [on_c] = [item["id"] for item in found["items"]]

    on_b = await held_id(b, bob, listing["iri"])
    status, asked = await b.api("POST", f"/api/v1/listings/{on_b}/questions", bob,
                                json={"content": "Still there?"})
    await settle(a, b, c)
    [seen] = await shown(c, on_c)
    assert seen["iri"] == asked["iri"]
    [on_a] = await shown(a, listing["id"])
    await a.api("POST", f"/api/v1/questions/{on_a['id']}/answer", alice,
                json={"content": "Yes."})
    await settle(a, b, c)
    [seen] = await shown(c, on_c)
    assert seen["answer"]["content"] == "Yes."
    await a.api("POST", f"/api/v1/questions/{on_a['id']}/hide", alice)
    await settle(a, b, c)
    assert await shown(c, on_c) == []


@pytest.mark.spec("Kula SPEC §12: moderators hide questions")
async def test_a_moderator_hides_a_question_on_their_own_node_only(
    trio: tuple[Node, Node, Node],
) -> None:
    a, b, c = trio
    alice, bob, carol = await a.member("alice"), await b.member("bob"), await c.member("carol")
    await follow(c, carol, f"alice@{a.host}", a)
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=GIFT)
    await settle(a, c)
    on_b, on_c = await held_id(b, bob, listing["iri"]), await held_id(c, carol, listing["iri"])
    status, asked = await b.api("POST", f"/api/v1/listings/{on_b}/questions", bob,
                                json={"content": "Cheap phones at my shop!"})
    assert status == 201, asked
    await settle(a, b, c)
    [on_carols_node] = await shown(c, on_c)
    # carol is an administrator of C: her hide is C's moderation, not the author's.
    status, hidden = await c.api("POST", f"/api/v1/questions/{on_carols_node['id']}/hide",
                                 carol)
    assert status == 200 and hidden["hidden"] is True
    await settle(a, b, c)
    assert await shown(c, on_c) == []
    assert len(await shown(a, listing["id"])) == 1
    assert len(await shown(b, on_b)) == 1
    # The author hiding and showing it again does not undo C's moderation.
    [on_a] = await shown(a, listing["id"])
    await a.api("POST", f"/api/v1/questions/{on_a['id']}/hide", alice)
    await settle(a, b, c)
    await a.api("POST", f"/api/v1/questions/{on_a['id']}/unhide", alice)
    await settle(a, b, c)
    assert await shown(c, on_c) == []
    assert len(await shown(b, on_b)) == 1
