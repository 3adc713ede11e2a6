"""Pool pages in a real browser across two real nodes: a member of A opens a
pool through the listing form, a member of B pledges from B's page, both
pages follow the progress, and at the deadline (driven through the
settlement step's ``now``, never waited for) both show the same verified
outcome. Plus the refusals a plain HTTP client meets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, expect

from node.services import pool_settlement
from tests.federation.harness import Node, settle
from tests.support import TEST_PASSWORD
from tests.web.browser import PHONE, log_in, screenshot
from tests.web.fixtures import new_page
from tests.web.listing_support import session_cookie
from tests.web.page_posts import post

#: The pool's deadline, to the minute as a datetime-local input takes it.
DEADLINE = (datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0)
LISTING_URL = re.compile(r"/listings/[0-9a-z]{26}(#pool)?$")


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a = await Node("a", tmp_path / "a", overrides={"registration": "open"}).start()
    b = await Node("b", tmp_path / "b", overrides={"registration": "open"}).start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def signed_in(browser: Browser, node: Node, username: str,
                    viewport: dict[str, int] | None = None) -> Page:
    page = await new_page(browser, viewport) if viewport else await new_page(browser)
    await log_in(page, node.url, username, TEST_PASSWORD)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


async def close_at_deadline(*nodes: Node) -> None:
    assert await pool_settlement.settle_due(
        nodes[0].ctx, now=DEADLINE + timedelta(seconds=1)
    ) == 1
    await settle(*nodes)


async def test_a_pool_opened_in_the_form_is_funded_from_another_node(
    browser: Browser, pair: tuple[Node, Node]
) -> None:
    a, b = pair
    await a.member("alice")
    carol = await a.member("carol")
    await b.member("bob")
    alice_page = await signed_in(browser, a, "alice")

    # Alice opens a pool through the listing form.
    await alice_page.goto(f"{a.url}/listings/new")
    await alice_page.get_by_label("Offered or wanted").select_option("request")
    await alice_page.get_by_label("Kind of exchange").select_option("give")
    await alice_page.get_by_label("Title").fill("Community cider press")
    pool = alice_page.get_by_role("group", name="Pool together (optional)")
    await pool.get_by_label("What the pool counts").select_option("money")
    await pool.get_by_label("Goal amount").fill("200")
    await pool.get_by_label("Goal currency (money)").fill("eur")
    await pool.get_by_label("Pool deadline (UTC)").fill(DEADLINE.strftime("%Y-%m-%dT%H:%M"))
    await pool.get_by_label("What each participant receives").fill("A day with the press")
    await pool.get_by_label("Maximum per pledge (optional)").fill("150")
    await pool.scroll_into_view_if_needed()
    await screenshot(alice_page, "pool-form")
    await alice_page.get_by_role("button", name="Publish listing").click()
    await alice_page.wait_for_url(LISTING_URL)
    section = alice_page.get_by_role("region", name="Pool together")
    await expect(section.locator(".pool-goal")).to_have_text("200 EUR")
    await expect(section).to_contain_text("A day with the press")
    await expect(section).to_contain_text("150 EUR")
    await expect(section.get_by_role("progressbar", name="Pledged so far: 0 EUR of 200 EUR")) \
        .to_have_attribute("value", "0")
    # The author does not pledge to their own pool.
    assert await section.get_by_role("button", name="Pledge").count() == 0
    listing_id = alice_page.url.split("#")[0].rsplit("/", 1)[-1]
    status, listing = await a.api("GET", f"/api/v1/listings/{listing_id}")
    assert status == 200, listing
    status, shown = await a.api("GET", f"/api/v1/listings/{listing_id}/pool")
    assert (shown["goal"]["kind"], shown["goal"]["amount"], shown["goal"]["currency"],
            shown["maximum_pledge"], shown["deadline"]) == (
        "money", "200", "EUR", "150", DEADLINE.strftime("%Y-%m-%dT%H:%M:%SZ")), shown

    # Bob, on B, pledges from B's page for the pool, and sees his pledge at once.
    bob_page = await signed_in(browser, b, "bob")
    remote_url = f"{b.url}/remote/listing?iri={quote(listing['iri'], safe='')}"
    await bob_page.goto(remote_url)
    bobs_pool = bob_page.get_by_role("region", name="Pool together")
    # One joins a pool by pledging: there is no exchange offer to make.
    await expect(bob_page.get_by_role("link", name="Make an offer")).to_have_count(0)
    await expect(bobs_pool.locator(".pool-time-left")).to_have_text(
        re.compile(r"^[45] hours, [0-9]+ minutes? left$"))
    await bobs_pool.get_by_label("Amount (EUR)").fill("120")
    await bobs_pool.get_by_label("Message to the organiser (optional)").fill("Happy to help")
    await bobs_pool.get_by_role("button", name="Pledge").click()
    await expect(bob_page.locator(".notice")).to_have_text("Your pledge is counted.")
    await expect(bobs_pool).to_contain_text("You pledged 120 EUR; it counts until the deadline.")
    await settle(a, b)

    # The author's page counts it; B's page shows the progress A published.
    await alice_page.reload()
    await expect(section.get_by_role("progressbar", name="Pledged so far: 120 EUR of 200 EUR")) \
        .to_have_attribute("value", "120")
    await expect(section).to_contain_text("1 pledge · 60% of the goal")
    await bob_page.reload()
    await expect(bobs_pool.get_by_role("progressbar")).to_have_attribute("value", "120")
    await screenshot(bob_page, "pool-listing-remote")

    # A member of A completes the goal through the API; the deadline passes.
    status, body = await a.api("POST", f"/api/v1/listings/{listing_id}/pledges", carol,
                               json={"amount": "90"})
    assert status == 201, body
    await settle(a, b)
    await close_at_deadline(a, b)

    for page, node_host in ((alice_page, a.host), (bob_page, b.host)):
        await page.reload()
        region = page.get_by_role("region", name="Pool together")
        await expect(region.locator(".pool-state")).to_have_text("Goal reached")
        outcome = region.get_by_role("region", name="Outcome: the goal was reached")
        await expect(outcome.locator(".commitments li")).to_have_count(2)
        await expect(outcome).to_contain_text("120 EUR")
        await expect(outcome).to_contain_text("90 EUR")
        assert await region.get_by_role("button", name="Pledge").count() == 0, node_host
    await expect(bobs_pool).to_contain_text("now a commitment: the goal was reached")
    link = alice_page.get_by_role("link", name="See the signed outcome")
    assert await link.get_attribute("href") == f"{a.url}/pools/{listing_id}/outcome"
    await screenshot(alice_page, "pool-listing-succeeded")
    phone = await signed_in(browser, b, "bob", PHONE)
    await phone.goto(remote_url)
    await expect(phone.get_by_role("region", name="Pool together")).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "pool-listing-phone")


def pool_terms(maximum: str = "50") -> dict[str, Any]:
    return {
        "purpose": "request", "mode": "give", "title": "Bulk flour",
        "pool": {"goal": {"kind": "money", "amount": "100", "currency": "EUR"},
                 "deadline": DEADLINE.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "receives": "A sack", "maximum_pledge": maximum},
    }


async def test_refused_pledges_say_why_with_the_right_status(web_node: Node) -> None:
    node = web_node
    alice = await node.member("alice")
    bob_token = await node.member("bob")
    status, listing = await node.api("POST", "/api/v1/listings", alice, json=pool_terms())
    assert status == 201, listing
    pledge_path = f"/listings/{listing['id']}/pledge"
    bob = await session_cookie(node, "bob")

    status, body = await post(node, pledge_path, bob, amount="80")
    assert status == 422 and "a pledge may be at most 50" in body and 'id="pool-error"' in body
    assert 'value="80"' in body  # what was typed comes back
    status, body = await post(node, pledge_path, bob, amount="lots")
    assert status == 422 and "Write the amount as a number" in body
    status, body = await post(node, pledge_path, bob, amount="30", csrf_token="forged")
    assert status == 403
    assert node.session is not None
    async with node.session.post(pledge_path, data={"amount": "30"}, cookies=bob,
                                 allow_redirects=False) as refused:
        assert refused.status == 403  # no CSRF token at all
    status, location = await post(node, pledge_path, {}, amount="30")
    assert (status, location) == (303, f"/login?next={pledge_path}")

    status, location = await post(node, pledge_path, bob, amount="30")
    assert (status, location) == (303, f"/listings/{listing['id']}#pool")
    status, body = await post(node, pledge_path, bob, amount="20")
    assert status == 409 and "withdraw that pledge first" in body
    status, pool = await node.api("GET", f"/api/v1/listings/{listing['id']}/pool")
    assert (pool["pledged"], pool["pledge_count"]) == ("30", 1), pool
    # The front page's card shows the progress in one line.
    async with node.session.get("/") as front:
        assert "Pool: 30 of 100 EUR (30%)" in await front.text()

    status, own = await post(node, pledge_path, await session_cookie(node, "alice"), amount="5")
    assert status == 403 and "your own pool" in own

    # Bob withdraws through the page; then the deadline passes and the pool is closed.
    status, pool = await node.api("GET", f"/api/v1/listings/{listing['id']}/pool", bob_token)
    pledge_id = pool["your_pledges"][0]["id"]
    status, _ = await post(node, f"/listings/{listing['id']}/pledges/{pledge_id}/withdraw", bob)
    assert status == 303
    status, pool = await node.api("GET", f"/api/v1/listings/{listing['id']}/pool", bob_token)
    assert pool["pledge_count"] == 0 and pool["your_pledges"][0]["state"] == "withdrawn"
    status, body = await post(node, f"/listings/{listing['id']}/pledges/{pledge_id}/withdraw", bob)
    assert status == 409 and "already withdrawn" in body
    await close_at_deadline(node)
    status, body = await post(node, pledge_path, bob, amount="20")
    assert status == 409 and "deadline has passed" in body
    assert "Goal not reached" in body


async def test_the_form_puts_pool_messages_beside_their_inputs(web_node: Node) -> None:
    node = web_node
    await node.member("alice")
    alice = await session_cookie(node, "alice")
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    status, body = await post(
        node, "/listings/new", alice, purpose="request", mode="give", title="Honey",
        pool_kind="money", pool_amount="10", pool_currency="", pool_deadline=past,
    )
    assert status == 422
    assert 'id="error-pool_currency"' in body and "three-letter code" in body
    status, body = await post(
        node, "/listings/new", alice, purpose="request", mode="give", title="Honey",
        pool_kind="participants", pool_amount="2.5", pool_deadline=past,
    )
    assert status == 422 and 'id="error-pool_amount"' in body
    assert "a number of participants is a whole number" in body
    status, body = await post(
        node, "/listings/new", alice, purpose="request", mode="give", title="Honey",
        pool_kind="quantity", pool_amount="20", pool_unit="kilogram", pool_deadline=past,
    )
    assert status == 422 and 'id="error-pool_deadline"' in body
    assert "the deadline must be in the future" in body
    assert 'value="kilogram"' in body

    # A deadline after the usual 90 days keeps the listing listed until then.
    later = (datetime.now(UTC) + timedelta(days=120)).replace(hour=12, minute=0)
    status, location = await post(
        node, "/listings/new", alice, purpose="request", mode="give", title="Honey",
        pool_kind="quantity", pool_amount="20", pool_unit="kilogram",
        pool_deadline=later.strftime("%Y-%m-%dT%H:%M"), pool_maximum="2,5",
    )
    assert status == 303, location
    listing_id = location.rsplit("/", 1)[-1]
    status, listing = await node.api("GET", f"/api/v1/listings/{listing_id}")
    assert listing["expires_at"] == later.strftime("%Y-%m-%dT23:59:59Z"), listing
    status, pool = await node.api("GET", f"/api/v1/listings/{listing_id}/pool")
    assert (pool["goal"]["unit"], pool["maximum_pledge"]) == ("kilogram", "2.5"), pool


async def test_a_participants_pool_takes_one_place_and_keeps_its_terms_when_edited(
    web_node: Node,
) -> None:
    node = web_node
    alice = await node.member("alice")
    await node.member("bob")
    terms = {**pool_terms(), "title": "Minibus to the fair"}
    terms["pool"] = {"goal": {"kind": "participants", "amount": "8"},
                     "deadline": terms["pool"]["deadline"], "receives": "A seat"}
    status, listing = await node.api("POST", "/api/v1/listings", alice, json=terms)
    assert status == 201, listing
    bob = await session_cookie(node, "bob")
    assert node.session is not None
    async with node.session.get(f"/listings/{listing['id']}", cookies=bob,
                                headers={"Accept": "text/html"}) as got:
        html = await got.text()
    assert "Take a place" in html and 'name="amount"' not in html
    assert "Places taken: 0 of 8" in html and "8 places" in html
    status, location = await post(node, f"/listings/{listing['id']}/pledge", bob)
    assert status == 303, location
    status, pool = await node.api("GET", f"/api/v1/listings/{listing['id']}/pool")
    assert (pool["pledged"], pool["pledge_count"]) == ("1", 1), pool

    # The edit form leaves the pool as published.
    alice_cookie = await session_cookie(node, "alice")
    async with node.session.get(f"/listings/{listing['id']}/edit", cookies=alice_cookie,
                                headers={"Accept": "text/html"}) as got:
        html = await got.text()
    assert "This listing is a pool" in html and 'name="pool_kind"' not in html
    status, location = await post(
        node, f"/listings/{listing['id']}/edit", alice_cookie, purpose="request", mode="give",
        title="Minibus to the autumn fair", status="available",
    )
    assert status == 303, location
    status, pool = await node.api("GET", f"/api/v1/listings/{listing['id']}/pool")
    assert (pool["goal"]["amount"], pool["pledge_count"], pool["receives"]) == ("8", 1, "A seat")
    # The offer page does not open for a pool: it takes pledges on its own page.
    async with node.session.get(
        "/exchanges/new?listing=" + quote(listing["iri"], safe=""), cookies=bob
    ) as got:
        assert got.status == 422
        assert "pledge to it from its page" in await got.text()
