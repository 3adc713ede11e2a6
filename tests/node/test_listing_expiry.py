"""Listing expiry: the worker step marks lapsed listings expired, re-signs
them and publishes an Update. Time is stepped, never waited for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from helpers import execute, listing_body

from node.services import listings
from node.services.context import NodeContext
from node.storage.records import SearchQuery
from node.timeutil import later_text, parse_text, to_text
from node.workers.runner import run_once
from protocol.multikey import multikey_decode
from protocol.proofs import verify_object

PAST = "2001-01-01T00:00:00Z"


async def make_due(ctx: NodeContext, listing_id: str) -> None:
    await execute(ctx, "UPDATE listings SET expires_at = ? WHERE id = ?", (PAST, listing_id))


async def expiry_cycle(ctx: NodeContext) -> int:
    """One cycle of every worker step; how many listings it expired."""
    return (await run_once(ctx))["listing-expiry"]


async def outbox_types(client: TestClient, username: str) -> list[str]:
    page = await (await client.get(f"/users/{username}/outbox?page=true")).json(
        content_type=None
    )
    return [item["type"] for item in page["orderedItems"]]


@pytest.mark.spec("Kula listings: expiry")
async def test_a_due_listing_expires_once(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    listing = await listings.create_listing(ctx, alice.member, listing_body())
    assert await expiry_cycle(ctx) == 0
    await make_due(ctx, listing.id)
    assert await expiry_cycle(ctx) == 1
    assert await expiry_cycle(ctx) == 0

    shown = await (await client.get(f"/api/v1/listings/{listing.id}")).json()
    assert shown["status"] == "expired"
    document = await (await client.get(f"/listings/{listing.id}")).json(content_type=None)
    assert document["listingStatus"] == "expired"
    actor = await (await client.get("/users/alice")).json(content_type=None)
    verify_object(document, multikey_decode(actor["assertionMethod"][0]["publicKeyMultibase"]))
    assert await outbox_types(client, "alice") == ["Update", "Create"]

    async with ctx.storage.read() as session:
        assert await session.search_listings(SearchQuery()) == []
        [hit] = await session.search_listings(SearchQuery(status="expired"))
    assert hit.listing.id == listing.id


@pytest.mark.spec("Kula listings: expiry")
async def test_stepping_past_a_near_expiry(
    ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    expires = later_text(minutes=5)
    listing = await listings.create_listing(
        ctx, alice.member, listing_body(expires_at=expires)
    )
    # One second before the expiry nothing happens; at the expiry, it lapses.
    one_second_before = to_text(parse_text(expires) - timedelta(seconds=1))
    assert await listings.expire_due(ctx, now=one_second_before) == 0
    assert await listings.expire_due(ctx, now=expires) == 1
    async with ctx.storage.read() as session:
        stored = await session.get_listing(listing.id)
    assert stored is not None and stored.status == "expired"


@pytest.mark.spec("Kula listings: expiry")
async def test_only_open_listings_expire(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    member = alice.member
    available = await listings.create_listing(ctx, member, listing_body(title="A"))
    reserved = await listings.update_listing(
        ctx, member, (await listings.create_listing(ctx, member, listing_body(title="R"))).id,
        {"status": "reserved"},
    )
    withdrawn = await listings.withdraw_listing(
        ctx, member, (await listings.create_listing(ctx, member, listing_body(title="W"))).id
    )
    deleted = await listings.create_listing(ctx, member, listing_body(title="D"))
    await listings.delete_listing(ctx, member, deleted.id)
    future = await listings.create_listing(ctx, member, listing_body(title="F"))
    for listing in (available, reserved, withdrawn, deleted):
        await make_due(ctx, listing.id)
    assert await expiry_cycle(ctx) == 2
    async with ctx.storage.read() as session:
        statuses = {
            listing.title: (await session.get_listing(listing.id)).status  # type: ignore[union-attr]
            for listing in (available, reserved, withdrawn, deleted, future)
        }
    assert statuses == {"A": "expired", "R": "expired", "W": "withdrawn", "D": "available",
                        "F": "available"}
    response = await client.get(f"/listings/{deleted.id}")
    assert response.status == 410  # the tombstone was not overwritten


@pytest.mark.spec("Kula listings: expiry")
async def test_renewed_listing_stays_available(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    listing = await listings.create_listing(ctx, alice.member, listing_body())
    await make_due(ctx, listing.id)
    assert await expiry_cycle(ctx) == 1
    response = await client.patch(
        f"/api/v1/listings/{listing.id}", json={"expires_at": later_text(days=30)},
        headers=alice.auth,
    )
    assert response.status == 200 and (await response.json())["status"] == "available"
    assert await expiry_cycle(ctx) == 0
    assert await outbox_types(client, "alice") == ["Update", "Update", "Create"]
