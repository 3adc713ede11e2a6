"""Client API: members report listings, members, questions and remote
accounts; operators dismiss, hide, remove, suspend, block or forward a report
as a Flag (SPEC §12); a Flag from another node becomes a report."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD, MemberFactory
from conftest import TestMember as Caller
from helpers import assert_problem, json_body, listing_body, pointers

from node.federation.handlers.flag import handle_flag
from node.services.context import NodeContext
from node.storage.records import RemoteActor
from node.timeutil import later_text, now_text
from protocol.validation import validate

BASE = "http://127.0.0.1:8080"
REMOTE = "https://valley.example/users/mallory"


async def publish(client: TestClient, author: Caller, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/listings", json=listing_body(**overrides),
                                 headers=author.auth)
    return await json_body(response, 201, "api-listing")


async def report(client: TestClient, reporter: Caller, status: int = 201, **body: str) -> Any:
    response = await client.post("/api/v1/reports", json=body, headers=reporter.auth)
    if status != 201:
        return await assert_problem(response, status, {
            404: "not-found", 409: "conflict", 422: "validation-failed"}[status])
    return await json_body(response, 201, "api-report")


async def act(client: TestClient, admin: Caller, report_id: str, action: str,
              note: str = "") -> dict[str, Any]:
    response = await client.post(f"/api/v1/admin/reports/{report_id}/resolve",
                                 json={"action": action, "note": note}, headers=admin.auth)
    return await json_body(response, 200, "api-report")


async def open_reports(client: TestClient, admin: Caller, state: str = "open") -> list[dict]:
    response = await client.get("/api/v1/admin/reports", params={"state": state},
                                headers=admin.auth)
    return (await json_body(response, 200, "api-report-list"))["items"]


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_reported_listing_is_hidden_by_an_operator(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    admin = await make_member("olga", scope="admin")
    listing = await publish(client, alice, title="Cheap phones")
    filed = await report(client, bob, kind="listing", target=listing["iri"], reason="fraud",
                         comment="  Looks stolen.  ")
    assert (filed["reporter"], filed["target_actor"]) == (f"{BASE}/users/bob",
                                                          f"{BASE}/users/alice")
    assert filed["comment"] == "Looks stolen." and filed["preview"] == "Cheap phones"
    assert filed["local"] is True
    assert filed["actions"] == ["dismiss", "resolve", "hide", "remove", "suspend"]
    # Once is enough; the author cannot report their own; nothing unknown is reported.
    await report(client, bob, 409, kind="listing", target=listing["iri"], reason="fraud")
    own = await report(client, alice, 422, kind="listing", target=listing["iri"], reason="spam")
    assert pointers(own) == {"/target"}
    await report(client, bob, 404, kind="listing", target=f"{BASE}/listings/nope",
                 reason="spam")
    await report(client, bob, 404, kind="member", target=listing["iri"], reason="spam")

    [listed] = await open_reports(client, admin)
    assert listed["id"] == filed["id"]
    done = await act(client, admin, filed["id"], "hide", "Pending a check.")
    assert done["state"] == "resolved" and done["resolution"] == "hide: Pending a check."
    shown = await client.get(f"/api/v1/listings/{listing['id']}")
    assert (await shown.json())["status"] == "withdrawn"
    assert await open_reports(client, admin) == []
    assert [r["id"] for r in await open_reports(client, admin, "resolved")] == [filed["id"]]
    # A closed report takes no more actions.
    response = await client.post(f"/api/v1/admin/reports/{filed['id']}/resolve",
                                 json={"action": "remove"}, headers=admin.auth)
    await assert_problem(response, 409, "conflict")


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_removing_a_listing_and_suspending_its_author(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    admin = await make_member("olga", scope="admin")
    listing = await publish(client, alice)
    first = await report(client, bob, kind="listing", target=listing["iri"], reason="prohibited")
    member = await report(client, bob, kind="member", target=f"{BASE}/users/alice",
                          reason="abuse")
    assert (await act(client, admin, first["id"], "remove"))["state"] == "resolved"
    assert (await client.get(f"/api/v1/listings/{listing['id']}")).status == 410

    suspended = await act(client, admin, member["id"], "suspend", "Repeated fraud.")
    assert suspended["state"] == "resolved"
    login = await client.post("/api/v1/sessions",
                              json={"username": "alice", "password": TEST_PASSWORD})
    await assert_problem(login, 403, "forbidden")
    async with ctx.storage.read() as session:
        logged = await session.last_moderation(f"{BASE}/users/alice", "suspend")
    assert logged is not None and logged.note == "Repeated fraud."
    assert (logged.report_id, logged.operator_id) == (member["id"], admin.member.id)


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_dismissing_changes_nothing_but_the_report(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    admin = await make_member("olga", scope="admin")
    listing = await publish(client, alice)
    filed = await report(client, bob, kind="listing", target=listing["iri"], reason="spam")
    assert (await act(client, admin, filed["id"], "dismiss"))["state"] == "dismissed"
    assert (await (await client.get(f"/api/v1/listings/{listing['id']}")).json())[
        "status"] == "available"
    # After a dismissal the same member may report it again.
    await report(client, bob, kind="listing", target=listing["iri"], reason="spam")


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_reported_question_is_hidden(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    carol, admin = await make_member("carol"), await make_member("olga", scope="admin")
    listing = await publish(client, alice)
    asked = await json_body(await client.post(
        f"/api/v1/listings/{listing['id']}/questions", json={"content": "Buy pills here"},
        headers=carol.auth), 201, "api-question")
    filed = await report(client, bob, kind="question", target=asked["iri"], reason="spam")
    assert filed["preview"] == "Buy pills here" and "hide" in filed["actions"]
    await act(client, admin, filed["id"], "hide")
    shown = await client.get(f"/api/v1/listings/{listing['id']}/questions")
    assert (await json_body(shown, 200, "api-question-list"))["items"] == []


async def known_remote_actor(ctx: NodeContext) -> None:
    async with ctx.storage.transaction() as tx:
        await tx.upsert_remote_actor(RemoteActor(
            iri=REMOTE, host="valley.example", type="Person", preferred_username="mallory",
            inbox=f"{REMOTE}/inbox", shared_inbox="https://valley.example/inbox",
            followers=None, rsa_key_id=None, rsa_public_pem=None,
            document={"id": REMOTE, "type": "Person"}, fetched_at=now_text(),
            expires_at=later_text(days=1),
        ))


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_report_about_a_remote_account_is_forwarded_as_a_flag_then_blocked(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    bob, admin = await make_member("bob"), await make_member("olga", scope="admin")
    await known_remote_actor(ctx)
    await report(client, bob, 404, kind="member", target="https://valley.example/users/eve",
                 reason="abuse")
    filed = await report(client, bob, kind="member", target=REMOTE, reason="abuse",
                         comment="Threatening messages.")
    assert filed["preview"] == "@mallory@valley.example" and filed["local"] is False
    assert filed["actions"] == ["dismiss", "resolve", "block", "forward"]

    forwarded = await act(client, admin, filed["id"], "forward")
    assert forwarded["state"] == "open" and forwarded["forwarded_at"] is not None
    assert forwarded["actions"] == ["dismiss", "resolve", "block"]
    async with ctx.storage.read() as session:
        rows = await session._all("SELECT * FROM activities WHERE type = 'Flag'")
        jobs = await session._all("SELECT payload FROM jobs WHERE kind = 'fanout'")
    [row] = rows
    flag = json.loads(row["document"])
    validate(flag, "flag")
    # Sent by the node itself, never naming the member who reported it, and not public.
    assert flag["actor"] == f"{BASE}/actor" and "bob" not in json.dumps(flag)
    assert flag["object"] == [REMOTE] and flag["content"] == "Threatening messages."
    assert flag["to"] == ["https://valley.example/actor"] and row["public"] == 0
    assert any(json.loads(job["payload"])["activity_iri"] == flag["id"] for job in jobs)

    blocked = await act(client, admin, filed["id"], "block", "Harassment")
    assert blocked["state"] == "resolved"
    policies = await client.get("/api/v1/admin/federation/policies", headers=admin.auth)
    assert (await policies.json())["items"][0] == {
        "host": "valley.example", "policy": "block", "note": "Harassment",
        "created_at": (await policies.json())["items"][0]["created_at"]}


@pytest.mark.spec("Kula SPEC §12: moderation")
async def test_a_flag_about_local_content_becomes_a_report_once(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    alice, admin = await make_member("alice"), await make_member("olga", scope="admin")
    listing = await publish(client, alice)
    flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://valley.example/flags/1", "type": "Flag",
        "actor": "https://valley.example/actor",
        "object": [f"{BASE}/users/alice", listing["iri"], "https://valley.example/x"],
        "content": "<p>Stolen <b>goods</b></p>", "to": [f"{BASE}/actor"],
    }
    assert await handle_flag(ctx, flag) == "applied: report"
    assert await handle_flag(ctx, flag) == "ignored: already reported"
    [received] = await open_reports(client, admin)
    assert (received["kind"], received["target"]) == ("listing", listing["iri"])
    assert received["reporter"] == "https://valley.example/actor"
    assert received["comment"] == "Stolen goods" and "forward" not in received["actions"]
    # A Flag about nothing of this node's is not a report here.
    elsewhere = {**flag, "id": "https://valley.example/flags/2",
                 "object": ["https://valley.example/users/mallory"]}
    assert (await handle_flag(ctx, elsewhere)).startswith("ignored")
    assert len(await open_reports(client, admin)) == 1


@pytest.mark.spec("Kula API POST /api/v1/reports")
@pytest.mark.parametrize(("body", "pointer"), [
    ({"kind": "post", "target": "https://x.example/1", "reason": "spam"}, "/kind"),
    ({"kind": "listing", "target": "ftp://x.example/1", "reason": "spam"}, "/target"),
    ({"kind": "listing", "target": "https://x.example/1", "reason": "boring"}, "/reason"),
    ({"kind": "listing", "target": "https://x.example/1", "reason": "spam",
      "comment": "x" * 2001}, "/comment"),
])
async def test_bad_reports_are_refused_beside_their_field(
    client: TestClient, make_member: MemberFactory, body: dict[str, str], pointer: str
) -> None:
    bob = await make_member("bob")
    problem = await assert_problem(
        await client.post("/api/v1/reports", json=body, headers=bob.auth), 422,
        "validation-failed")
    assert pointer in pointers(problem)
    await assert_problem(await client.post("/api/v1/reports", json=body), 401, "unauthorized")
