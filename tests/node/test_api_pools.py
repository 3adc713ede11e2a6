"""Pooled pledges on one node, through the API, on both storage backends:
creating a pool, pledging and withdrawing with every refusal, and settling at
the deadline (time is driven through the worker step, never waited for)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from conftest import TestMember as Member
from helpers import assert_problem, json_body, listing_body, pointers

from node.services import pool_settlement
from node.services.context import NodeContext
from node.timeutil import later_text, parse_text, to_text, utc_now
from protocol.multikey import multikey_decode
from protocol.pools import read_pool, verify_outcome
from protocol.proofs import verify_object

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")],
    indirect=True,
)

DEADLINE = later_text(hours=2)


MONEY = {"kind": "money", "amount": "100.00", "currency": "EUR"}
PLACES = {"kind": "participants", "amount": "2"}


def pool_body(goal: dict[str, str] = MONEY) -> dict[str, Any]:
    """A cider press bought together: 100 EUR by the deadline, at most 80 a
    pledge (or two places)."""
    pool: dict[str, Any] = {"goal": goal, "deadline": DEADLINE, "receives": "A share"}
    if goal["kind"] == "money":
        pool["maximum_pledge"] = "80"
    return listing_body(title="Cider press", mode="give", price=None, location=None, pool=pool)


async def create(client: TestClient, who: Member, body: dict[str, Any]) -> dict[str, Any]:
    return await json_body(await client.post("/api/v1/listings", json=body, headers=who.auth),
                           201, "api-listing")


async def view(client: TestClient, listing_id: str, who: Member | None = None) -> dict:
    headers = who.auth if who else {}
    return await json_body(
        await client.get(f"/api/v1/listings/{listing_id}/pool", headers=headers), 200, "api-pool"
    )


async def pledge(client: TestClient, who: Member, listing_id: str, **body: Any) -> Any:
    return await client.post(f"/api/v1/listings/{listing_id}/pledges", json=body,
                             headers=who.auth)


async def settle_after_deadline(ctx: NodeContext, deadline: str = DEADLINE) -> int:
    return await pool_settlement.settle_due(ctx, now=parse_text(deadline) + timedelta(seconds=1))


async def notes(client: TestClient, who: Member) -> list[str]:
    body = await (await client.get("/api/v1/notifications", headers=who.auth)).json()
    return [n["summary"] for n in body["items"] if n["kind"] == "pool"]


async def public_key(client: TestClient, username: str) -> Any:
    actor = await (await client.get(f"/users/{username}")).json(content_type=None)
    return actor


@pytest.mark.spec("Kula pools: a pool is a listing with a signed pool section")
async def test_a_pool_is_published_with_its_goal_and_progress(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    listing = await create(client, alice, pool_body())
    shown = await view(client, listing["id"])
    assert shown["goal"] == {"kind": "money", "amount": "100.00", "unit": "one",
                             "currency": "EUR"}
    assert (shown["state"], shown["pledged"], shown["pledge_count"]) == ("open", "0", 0)
    assert 0 < shown["seconds_left"] <= 7200 and shown["receives"] == "A share"
    document = await (await client.get(f"/listings/{listing['id']}")).json(content_type=None)
    actor = await public_key(client, "alice")
    verify_object(document, multikey_decode(actor["assertionMethod"][0]["publicKeyMultibase"]))
    terms = read_pool(document)
    assert terms is not None and terms.currency == "EUR" and str(terms.maximum_pledge) == "80"


@pytest.mark.spec("Kula pools: creation rules")
@pytest.mark.parametrize(
    ("pool", "pointer"),
    [
        ({"goal": {"kind": "money", "amount": "10"}, "deadline": DEADLINE}, "/pool/goal/currency"),
        ({"goal": {"kind": "participants", "amount": "2.5"}, "deadline": DEADLINE},
         "/pool/goal/amount"),
        ({"goal": {"kind": "quantity", "amount": "5", "currency": "EUR"}, "deadline": DEADLINE},
         "/pool/goal/currency"),
        ({"goal": {"kind": "money", "amount": "10", "currency": "EUR"},
          "deadline": "2001-01-01T00:00:00Z"}, "/pool/deadline"),
        ({"goal": {"kind": "money", "amount": "10", "currency": "EUR"},
          "deadline": later_text(days=400)}, "/pool/deadline"),
        ({"goal": {"kind": "money", "amount": "0", "currency": "EUR"}, "deadline": DEADLINE},
         "/pool/goal/amount"),
        ({"goal": {"kind": "money", "amount": "1", "currency": "EUR"},
          "deadline": "2031-13-01T00:00:00Z"}, "/pool/deadline"),
    ],
)
async def test_invalid_pool_terms_are_refused_and_nothing_is_created(
    client: TestClient, make_member: MemberFactory, pool: dict, pointer: str
) -> None:
    alice = await make_member("alice")
    body = listing_body(mode="give", price=None, pool=pool)
    problem = await assert_problem(
        await client.post("/api/v1/listings", json=body, headers=alice.auth), 422,
        "validation-failed",
    )
    assert pointers(problem) == {pointer}
    listed = await (await client.get("/api/v1/members/alice/listings")).json()
    assert listed["items"] == []


@pytest.mark.spec("Kula pools: pledging and withdrawing")
async def test_pledges_are_counted_withdrawn_and_refused_precisely(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice, bob, carol = [await make_member(name) for name in ("alice", "bob", "carol")]
    listing = await create(client, alice, pool_body())
    plain = await create(client, alice, listing_body())
    one = listing["id"]

    bobs = await json_body(await pledge(client, bob, one, amount="60.00"), 201, "api-pool-pledge")
    assert (bobs["amount"], bobs["currency"], bobs["state"]) == ("60.00", "EUR", "live")
    await json_body(await pledge(client, carol, one, amount="50", message="Count me in"), 201,
                    "api-pool-pledge")
    shown = await view(client, one, bob)
    assert (shown["pledged"], shown["pledge_count"], shown["goal_met"]) == ("110.00", 2, True)
    shown_before = await view(client, one, carol)
    assert [p["id"] for p in shown["your_pledges"]] == [bobs["id"]]
    document = await (await client.get(f"/listings/{one}")).json(content_type=None)
    assert document["pool"]["pledged"]["hasNumericalValue"] == "110.00"
    assert document["pool"]["pledgeCount"] == 2

    refusals = [
        (alice, {"amount": "10"}, one, 403, "forbidden"),
        (bob, {"amount": "5"}, one, 409, "pledge-exists"),
        (await make_member("dave"), {"amount": "80.01"}, one, 422, "pledge-out-of-bounds"),
        (await make_member("erin"), {"amount": "0"}, one, 422, "pledge-out-of-bounds"),
        (await make_member("fred"), {}, one, 422, "validation-failed"),
        (carol, {"amount": "5"}, plain["id"], 404, "not-a-pool"),
        (carol, {"amount": "5"}, "nope", 404, "not-found"),
    ]
    for who, body, target, status, slug in refusals:
        await assert_problem(await pledge(client, who, target, **body), status, slug)

    admin, gina = await make_member("ops", scope="admin"), await make_member("gina")
    suspended = await client.post("/api/v1/admin/members/gina/suspension", headers=admin.auth)
    assert suspended.status == 200
    await assert_problem(await pledge(client, gina, one, amount="5"), 403, "forbidden")

    withdraw = f"/api/v1/listings/{one}/pledges/{bobs['id']}"
    withdrawn = await json_body(await client.delete(withdraw, headers=bob.auth), 200,
                                "api-pool-pledge")
    assert withdrawn["state"] == "withdrawn"
    await assert_problem(await client.delete(withdraw, headers=bob.auth), 409, "pool-closed")
    await assert_problem(await client.delete(withdraw, headers=carol.auth), 404, "not-found")
    shown = await view(client, one)
    assert (shown["pledged"], shown["pledge_count"], shown["goal_met"]) == ("50", 1, False)
    # Having withdrawn, bob may pledge again.
    await json_body(await pledge(client, bob, one, amount="55"), 201, "api-pool-pledge")
    assert any("withdrew" in n for n in await notes(client, alice))
    assert (await client.get(f"/pledges/{bobs['id']}")).status == 410
    carols = shown_before["your_pledges"][0]
    signed = await (await client.get(f"/pledges/{carols['id']}")).json(content_type=None)
    actor = await public_key(client, "carol")
    verify_object(signed, multikey_decode(actor["assertionMethod"][0]["publicKeyMultibase"]))
    assert signed["inReplyTo"] == listing["iri"] and signed["type"] == "Pledge"


@pytest.mark.spec("Kula SPEC §18: a pool takes pledges, not exchange offers")
async def test_an_exchange_offer_on_a_pool_is_refused_and_nothing_is_written(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    listing = await create(client, alice, pool_body())
    for reference in (listing["id"], listing["iri"]):
        await assert_problem(await client.post(
            "/api/v1/exchanges", json={"listing": reference}, headers=bob.auth,
        ), 422, "pool-takes-no-offers")
    for who in (alice, bob):
        mine = await (await client.get("/api/v1/exchanges", headers=who.auth)).json()
        assert mine["items"] == []
    told = await (await client.get("/api/v1/notifications", headers=alice.auth)).json()
    assert told["items"] == []
    async with ctx.storage.read() as session:
        offers = await session._all("SELECT id FROM activities WHERE type = 'Offer'")
    assert offers == []


@pytest.mark.spec("Kula pools: success at the deadline")
async def test_the_deadline_turns_pledges_into_commitments_once(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice, bob, carol = [await make_member(name) for name in ("alice", "bob", "carol")]
    listing = await create(client, alice, pool_body())
    for who, amount in ((bob, "60.00"), (carol, "45.50")):
        await json_body(await pledge(client, who, listing["id"], amount=amount), 201, None)
    assert await pool_settlement.settle_due(ctx) == 0  # before the deadline: nothing to do
    assert await settle_after_deadline(ctx) == 1
    assert await settle_after_deadline(ctx) == 0

    shown = await view(client, listing["id"], bob)
    assert (shown["state"], shown["pledged"], shown["pledge_count"]) == ("succeeded", "105.50", 2)
    committed = {(c["pledger"], c["amount"]) for c in shown["outcome"]["commitments"]}
    assert committed == {(f"http://127.0.0.1:8080/users/{n}", a)
                         for n, a in (("bob", "60.00"), ("carol", "45.50"))}
    assert shown["your_pledges"][0]["state"] == "committed"
    outcome = await (await client.get(f"/pools/{listing['id']}/outcome")).json(content_type=None)
    assert outcome == shown["outcome"]["document"] and shown["outcome_iri"] == outcome["id"]
    entries = verify_outcome(outcome, await public_key(client, "alice"),
                             proposal_id=listing["iri"])
    assert len(entries) == 2
    for who in (bob, carol):
        assert any("is now a commitment" in n for n in await notes(client, who))
    assert any("reached its goal" in n for n in await notes(client, alice))
    listed = await (await client.get(f"/api/v1/listings/{listing['id']}")).json()
    assert listed["status"] == "completed"
    document = await (await client.get(f"/listings/{listing['id']}")).json(content_type=None)
    assert (document["pool"]["poolState"], document["pool"]["outcome"]) == (
        "succeeded", outcome["id"])

    late = await make_member("late")
    await assert_problem(await pledge(client, late, listing["id"], amount="5"), 409,
                         "pool-closed")
    mine = shown["your_pledges"][0]["id"]
    await assert_problem(await client.delete(
        f"/api/v1/listings/{listing['id']}/pledges/{mine}", headers=bob.auth), 409, "pool-closed")


@pytest.mark.spec("Kula pools: failure releases every pledge")
async def test_a_missed_goal_releases_every_pledge(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    listing = await create(client, alice, pool_body())
    made = await json_body(await pledge(client, bob, listing["id"], amount="30"), 201, None)
    assert await settle_after_deadline(ctx) == 1
    shown = await view(client, listing["id"], bob)
    assert shown["state"] == "failed" and shown["outcome"]["commitments"] == []
    assert shown["outcome"]["released"] == [made["iri"]]
    assert shown["your_pledges"][0]["state"] == "released"
    assert any("was released" in n for n in await notes(client, bob))
    listed = await (await client.get(f"/api/v1/listings/{listing['id']}")).json()
    assert listed["status"] == "expired"


@pytest.mark.spec("Kula pools: a withdrawn listing's pool fails")
async def test_a_withdrawn_pool_fails_even_with_its_goal_met(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice, bob, carol = [await make_member(name) for name in ("alice", "bob", "carol")]
    listing = await create(client, alice, pool_body(PLACES))
    for who in (bob, carol):
        made = await json_body(await pledge(client, who, listing["id"]), 201, None)
        assert made["amount"] == "1"
    await client.post(f"/api/v1/listings/{listing['id']}/withdrawal", headers=alice.auth)
    await assert_problem(await pledge(client, await make_member("dave"), listing["id"]), 409,
                         "pool-closed")
    assert await settle_after_deadline(ctx) == 1
    shown = await view(client, listing["id"])
    assert shown["state"] == "failed" and len(shown["outcome"]["released"]) == 2


@pytest.mark.spec("Kula pools: participants")
async def test_a_participants_pool_counts_one_place_each(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice, bob, carol = [await make_member(name) for name in ("alice", "bob", "carol")]
    listing = await create(client, alice, pool_body(PLACES))
    await assert_problem(await pledge(client, bob, listing["id"], amount="2"), 422,
                         "pledge-out-of-bounds")
    for who in (bob, carol):
        await json_body(await pledge(client, who, listing["id"]), 201, None)
    assert await settle_after_deadline(ctx) == 1
    shown = await view(client, listing["id"])
    assert (shown["state"], shown["pledged"], shown["goal"]["currency"]) == ("succeeded", "2",
                                                                             None)


@pytest.mark.spec("Kula pools: settlement is claimed, persisted and done once")
async def test_settlement_survives_a_dead_worker_and_never_runs_twice(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    listing = await create(client, alice, pool_body())
    await json_body(await pledge(client, bob, listing["id"], amount="80"), 201, None)
    after = parse_text(DEADLINE) + timedelta(seconds=1)
    # A worker claims the pool, then dies before settling it.
    async with ctx.storage.transaction() as tx:
        claimed = await tx.claim_due_pools(to_text(after), to_text(after + timedelta(minutes=2)),
                                           10)
    assert [pool.listing_iri for pool in claimed] == [listing["iri"]]
    assert await pool_settlement.settle_due(ctx, now=after) == 0  # still held
    lapsed = after + timedelta(minutes=3)
    settled = await asyncio.gather(*(pool_settlement.settle_due(ctx, now=lapsed)
                                     for _ in range(3)))
    assert sum(settled) == 1
    async with ctx.storage.read() as session:
        rows = await session._all(
            "SELECT type FROM activities WHERE type IN ('Accept', 'Reject')")
        pool = await session.get_pool(listing["iri"])
    assert [row["type"] for row in rows] == ["Reject"]  # 80 of 100: failed, answered once
    assert pool is not None and pool.state == "failed" and pool.claimed_until is None
    assert to_text(utc_now()) < DEADLINE
