"""The whole story of issue #6 in a real browser, across two real nodes:
a member signs up on A and lists a drill for rent with the form; a member of
B finds it through B's search (B's community peers with A's), offers, A
accepts, both confirm handover, return and completion, both rate each other,
and B's profile as A shows it carries the new reputation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, expect

from tests.federation.harness import Node, settle
from tests.web.browser import PHONE, screenshot
from tests.web.fixtures import new_page

PASSWORD = "a long passphrase for the journey"
EXCHANGE_URL = re.compile(r"/exchanges/(?!new)[A-Za-z0-9_-]+(#main)?$")
START = (datetime.now(UTC) + timedelta(days=4)).date()


@pytest.fixture
async def communities(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a = await Node("a", tmp_path / "a", overrides={"registration": "open"}).start()
    b = await Node("b", tmp_path / "b", overrides={"registration": "open"}).start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


#: Console errors of every page (a Content-Security-Policy violation is one).
console_errors: list[str] = []


async def sign_up(browser: Browser, node: Node, username: str) -> Page:
    page = await new_page(browser)
    page.on("dialog", lambda dialog: dialog.accept())
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    await page.goto(f"{node.url}/signup")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


async def press(page: Page, button: str) -> None:
    await page.get_by_role("button", name=button, exact=True).click()
    await page.wait_for_url(EXCHANGE_URL)


async def test_sign_up_list_find_trade_and_rate_across_two_communities(
    browser: Browser, communities: tuple[Node, Node]
) -> None:
    a, b = communities
    dialogs: list[str] = []

    # Ana signs up on A and lists her drill with the form.
    ana = await sign_up(browser, a, "ana")
    ana.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await ana.goto(f"{a.url}/listings/new")
    await ana.get_by_label("Offered or wanted").select_option("offer")
    await ana.get_by_label("Kind of exchange").select_option("rent")
    await ana.get_by_label("Title").fill("Cordless drill")
    await ana.get_by_label("Description").fill("18 V with two batteries. <script>alert(1)</script>")
    await ana.get_by_label("Price", exact=True).fill("5")
    await ana.get_by_label("Price currency").fill("EUR")
    await ana.get_by_label("Price per").select_option("P1D")
    await ana.get_by_role("button", name=re.compile("Publish|Save|Create")).click()
    await ana.wait_for_url(re.compile(r"/listings/[A-Za-z0-9_-]+$"))
    listing_iri = ana.url
    await expect(ana.get_by_role("heading", level=1)).to_have_text("Cordless drill")
    # Script in member text is shown as text and never runs.
    await expect(ana.get_by_text("<script>alert(1)</script>")).to_be_visible()
    await screenshot(ana, "journey-listing")

    # B's community peers with A's, so A's listings reach B's search.
    operator_b = await b.member("operator")
    status, peer = await b.api("POST", "/api/v1/admin/peers", operator_b, json={"host": a.host})
    assert status == 201, peer
    await settle(a, b)

    # Ben signs up on B, finds the drill, and offers for two days.
    ben = await sign_up(browser, b, "ben")
    await ben.goto(f"{b.url}/search?q=drill")
    result = ben.get_by_role("link", name="Cordless drill")
    await expect(result).to_be_visible()
    await expect(ben.get_by_role("main")).to_contain_text(a.host)
    await screenshot(ben, "journey-search")
    await ben.goto(f"{b.url}/exchanges/new?listing={quote(listing_iri, safe='')}")
    await ben.get_by_label("Start date").fill(START.isoformat())
    await ben.get_by_label("End date").fill((START + timedelta(days=2)).isoformat())
    await ben.get_by_role("button", name="Send offer").click()
    await ben.wait_for_url(EXCHANGE_URL)
    exchange_on_b = ben.url.split("#")[0]
    await settle(a, b)

    # Ana accepts and hands the drill over; Ben returns it; both complete.
    await ana.goto(f"{a.url}/exchanges")
    await ana.get_by_role("link", name="Cordless drill").first.click()
    exchange_on_a = ana.url.split("#")[0]
    await press(ana, "Accept the offer")
    await settle(a, b)
    await ana.goto(exchange_on_a)
    await press(ana, "Confirm the handover")
    await settle(a, b)
    await ben.goto(exchange_on_b)
    await press(ben, "Confirm the return")
    await settle(a, b)
    await ana.goto(exchange_on_a)
    await press(ana, "Confirm completion")
    await settle(a, b)
    await ben.goto(exchange_on_b)
    await press(ben, "Confirm completion")
    await expect(ben.locator(".exchange-status")).to_contain_text("Completed")
    await settle(a, b)

    # Both rate each other.
    await ben.get_by_role("combobox", name="Rating").select_option("5")
    await ben.get_by_label("Comment").fill("Great drill, friendly owner.")
    await press(ben, "Publish your rating")
    await ana.goto(exchange_on_a)
    await ana.get_by_role("combobox", name="Rating").select_option("5")
    await ana.get_by_label("Comment").fill("Returned clean and on time.")
    await press(ana, "Publish your rating")
    await settle(a, b)

    # On A, Ben's profile shows the reputation Ana's attestation gave him.
    ben_iri = f"{b.url}/users/ben"
    await ana.goto(f"{a.url}/remote/actor?iri={quote(ben_iri, safe='')}")
    reputation = ana.get_by_role("region", name="Reputation")
    await expect(reputation).to_contain_text("out of 5")
    await expect(reputation).to_contain_text("From 1 attestation")
    await expect(ana.get_by_role("main")).to_contain_text("Returned clean and on time.")
    await screenshot(ana, "journey-remote-profile")

    # And Ana's own profile on A shows Ben's verified attestation.
    phone = await new_page(browser, PHONE)
    await phone.goto(f"{a.url}/@ana")
    await expect(phone.get_by_role("main")).to_contain_text("Great drill, friendly owner.")
    await expect(phone.get_by_role("region", name="Reputation")).to_contain_text("out of 5")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "journey-profile-phone")
    assert dialogs == []
    assert console_errors == []
