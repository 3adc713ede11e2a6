"""The notifications page: newest first, unread ones marked and counted in the
header badge, each linking to its exchange; one button marks them all read."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.federation.harness import Node
from tests.support import TEST_PASSWORD
from tests.web.account_helpers import LISTING, form_client
from tests.web.browser import PHONE, log_in, screenshot
from tests.web.fixtures import new_page


async def _offer_on_alices_listing(node: Node) -> dict:
    alice = await node.member("alice", scope="write")
    bob = await node.member("bob", scope="write")
    status, listing = await node.api("POST", "/api/v1/listings", alice, json=LISTING)
    assert status == 201, listing
    status, deal = await node.api("POST", "/api/v1/exchanges", bob,
                                  json={"listing": listing["id"]})
    assert status == 201, deal
    return deal


async def test_notifications_are_listed_and_mark_all_read_clears_the_badge(
    page: Page, web_node: Node
) -> None:
    deal = await _offer_on_alices_listing(web_node)
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    badge = nav.locator(".badge")
    await expect(badge).to_have_text("1")
    await expect(badge).to_have_attribute("aria-label", "1 unread")
    await nav.get_by_role("link", name="Notifications").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    items = page.get_by_role("main").get_by_role("listitem")
    await expect(items).to_have_count(1)
    item = items.first
    await expect(item).to_have_class("unread")
    await expect(item).to_contain_text("new")
    await expect(item.get_by_role("link")).to_have_attribute("href", f"/exchanges/{deal['id']}")
    await screenshot(page, "notifications")

    await page.get_by_role("button", name="Mark all read").click()
    await expect(page.get_by_role("status")).to_contain_text("1 notification marked read.")
    await expect(badge).to_have_count(0)
    await expect(items.first).not_to_have_class("unread")
    assert await page.get_by_role("button", name="Mark all read").count() == 0


async def test_mark_all_read_spares_what_arrived_after_the_page_was_shown(
    web_node: Node,
) -> None:
    await _offer_on_alices_listing(web_node)
    async with form_client(web_node) as client:
        await client.log_in("alice", TEST_PASSWORD)
        status, body, _ = await client.get("/notifications")
        assert status == 200
        shown = int(body.split('name="up_to" value="')[1].split('"')[0])
        status, listings = await web_node.api("GET", "/api/v1/members/alice/listings")
        carol = await web_node.member("carol", scope="write")
        await web_node.api("POST", "/api/v1/exchanges", carol,
                           json={"listing": listings["items"][0]["id"]})
        status, _, response = await client.post("/notifications/read", {"up_to": str(shown)})
        assert status == 303
        assert response.headers["Location"] == "/notifications"
        status, body, _ = await client.get("/notifications")
        assert body.count('class="unread"') == 1
        status, body, _ = await client.post("/notifications/read", {"up_to": "soon"})
        assert status == 422


async def test_notifications_fit_a_phone(browser: Browser, web_node: Node) -> None:
    await _offer_on_alices_listing(web_node)
    page = await new_page(browser, PHONE)
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/notifications")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "notifications-phone")
