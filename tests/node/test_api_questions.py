"""Client API: public questions on a listing of this node, asked, answered,
hidden and shown again; the Notes and the listing's ``replies`` collection
other servers read (SPEC §7.1)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from conftest import TestMember as Caller
from helpers import assert_problem, json_body, listing_body

from node.services.context import NodeContext
from protocol.validation import validate

BASE = "http://127.0.0.1:8080"


async def publish(client: TestClient, author: Caller, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/listings", json=listing_body(**overrides),
                                 headers=author.auth)
    return await json_body(response, 201, "api-listing")


async def questions(client: TestClient, listing_id: str, **params: str) -> list[dict]:
    response = await client.get(f"/api/v1/listings/{listing_id}/questions", params=params)
    return (await json_body(response, 200, "api-question-list"))["items"]


async def document(client: TestClient, iri: str) -> dict[str, Any]:
    response = await client.get(iri.removeprefix(BASE),
                                headers={"Accept": "application/activity+json"})
    assert response.status == 200, await response.text()
    return await response.json(content_type=None)


async def outbox_types(ctx: NodeContext) -> list[tuple[str, str]]:
    async with ctx.storage.read() as session:
        rows = await session._all("SELECT type, actor_iri FROM activities ORDER BY seq")
    return [(row["type"], row["actor_iri"].rsplit("/", 1)[-1]) for row in rows]


@pytest.mark.spec("Kula SPEC §7.1: questions on listings")
async def test_ask_answer_hide_and_show_again(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    listing = await publish(client, alice)
    url = f"/api/v1/listings/{listing['id']}/questions"
    asked = await json_body(await client.post(url, json={
        "content": "Is the <script>battery</script> included?\n\nAnd a case?"},
        headers=bob.auth), 201, "api-question")
    assert asked["author"] == f"{BASE}/users/bob" and asked["hidden"] is False
    # Members write plain text; the Note carries it escaped, never as markup.
    note = await document(client, asked["iri"])
    validate(note, "note")
    assert note["inReplyTo"] == listing["iri"] and note["attributedTo"] == asked["author"]
    assert "<script>" not in note["content"] and "&lt;script&gt;" in note["content"]
    assert [q["content"] for q in await questions(client, listing["id"])] == [
        "Is the <script>battery</script> included?\n\nAnd a case?"
    ]
    # The author relays it at once, and so does the community (FEP-1b12).
    assert ("Announce", "alice") in await outbox_types(ctx)
    assert ("Announce", "community") in await outbox_types(ctx)

    one = f"/api/v1/questions/{asked['id']}"
    await assert_problem(await client.post(one + "/answer", json={"content": "Me?"},
                                           headers=bob.auth), 403, "forbidden")
    answered = await json_body(await client.post(one + "/answer", json={"content": "Yes."},
                                                 headers=alice.auth), 200, "api-question")
    assert answered["answer"]["content"] == "Yes."
    again = await json_body(await client.post(one + "/answer", json={"content": "Yes, both."},
                                              headers=alice.auth), 200, "api-question")
    assert again["answer"]["iri"] == answered["answer"]["iri"]
    assert again["answer"]["content"] == "Yes, both."
    answer_note = await document(client, again["answer"]["iri"])
    assert answer_note["inReplyTo"] == asked["iri"] and "updated" in answer_note

    await assert_problem(await client.post(one + "/hide", headers=bob.auth), 403, "forbidden")
    hidden = await json_body(await client.post(one + "/hide", headers=alice.auth), 200,
                             "api-question")
    assert hidden["hidden"] is True
    await assert_problem(await client.post(one + "/hide", headers=alice.auth), 409, "conflict")
    assert await questions(client, listing["id"]) == []
    await assert_problem(await client.get(url, params={"include_hidden": "true"}), 403,
                         "forbidden")
    response = await client.get(url, params={"include_hidden": "true"}, headers=alice.auth)
    assert [q["hidden"] for q in (await json_body(response, 200, "api-question-list"))[
        "items"]] == [True]
    await assert_problem(await client.post(one + "/answer", json={"content": "x"},
                                           headers=alice.auth), 409, "conflict")
    assert ("Undo", "alice") in await outbox_types(ctx)
    shown = await json_body(await client.post(one + "/unhide", headers=alice.auth), 200,
                            "api-question")
    assert shown["hidden"] is False and shown["answer"]["content"] == "Yes, both."
    await assert_problem(await client.post(one + "/unhide", headers=alice.auth), 409,
                         "conflict")


@pytest.mark.spec("Kula SPEC §12: moderators hide questions")
async def test_a_moderators_hide_outranks_the_author(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    admin = await make_member("root_admin", scope="admin")
    listing = await publish(client, alice)
    asked = await json_body(await client.post(
        f"/api/v1/listings/{listing['id']}/questions", json={"content": "Buy my phones!"},
        headers=bob.auth), 201, "api-question")
    one = f"/api/v1/questions/{asked['id']}"
    assert (await client.post(one + "/hide", headers=admin.auth)).status == 200
    await assert_problem(await client.post(one + "/unhide", headers=alice.auth), 403,
                         "forbidden")
    # A moderator hid it, so its Note is no longer served either.
    response = await client.get(asked["iri"].removeprefix(BASE))
    assert response.status == 404
    response = await client.get(f"/api/v1/listings/{listing['id']}/questions",
                                params={"include_hidden": "true"}, headers=admin.auth)
    assert len((await json_body(response, 200, "api-question-list"))["items"]) == 1
    assert (await client.post(one + "/unhide", headers=admin.auth)).status == 200


@pytest.mark.spec("Kula SPEC §7.1: the listing's replies collection")
async def test_the_listing_names_its_replies_collection(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    listing = await publish(client, alice)
    proposal = await document(client, listing["iri"])
    assert proposal["replies"] == f"{listing['iri']}/replies"
    collection = await document(client, proposal["replies"])
    assert collection["totalItems"] == 0
    asked = await json_body(await client.post(
        f"/api/v1/listings/{listing['id']}/questions", json={"content": "Colour?"},
        headers=bob.auth), 201, "api-question")
    collection = await document(client, proposal["replies"])
    validate(collection, "collection")
    assert collection["orderedItems"] == [asked["iri"]]
    response = await client.get("/listings/nope/replies")
    assert response.status == 404


@pytest.mark.spec("Kula SPEC §7.1: questions on listings")
async def test_questions_that_cannot_be_asked_or_answered(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    reader = await make_member("reader", scope="read")
    listing = await publish(client, alice)
    url = f"/api/v1/listings/{listing['id']}/questions"
    for body in ({"content": ""}, {"content": "   "}, {"content": "x" * 2001}, {},
                 {"content": "Hi", "extra": 1}):
        await assert_problem(await client.post(url, json=body, headers=bob.auth), 422,
                             "validation-failed")
    await assert_problem(await client.post(url, json={"content": "Mine?"}, headers=alice.auth),
                         409, "conflict")
    await assert_problem(await client.post(url, json={"content": "Hi"}, headers=reader.auth),
                         403, "forbidden")
    await assert_problem(await client.post("/api/v1/listings/nope/questions",
                                           json={"content": "Hi"}, headers=bob.auth),
                         404, "not-found")
    await assert_problem(await client.get(url, params={"include_hidden": "maybe"}), 422,
                         "validation-failed")
    for action in ("answer", "hide", "unhide"):
        await assert_problem(await client.post(f"/api/v1/questions/nope/{action}",
                                               json={"content": "x"}, headers=alice.auth),
                             404, "not-found")
    asked = await json_body(await client.post(url, json={"content": "Hi"}, headers=bob.auth),
                            201, "api-question")
    assert (await client.delete(f"/api/v1/listings/{listing['id']}",
                                headers=alice.auth)).status == 204
    await assert_problem(await client.post(url, json={"content": "Still?"}, headers=bob.auth),
                         410, "gone")
    await assert_problem(await client.get(url), 410, "gone")
    await assert_problem(await client.post(f"/api/v1/questions/{asked['id']}/answer",
                                           json={"content": "x"}, headers=alice.auth),
                         404, "not-found")
