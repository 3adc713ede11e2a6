"""Exchange pages in a real browser across two real nodes: a member of B
answers a rental listed on A, the parties negotiate, hand over, return,
complete and rate each other, each on their own node."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.federation.harness import Node, settle
from tests.support import TEST_PASSWORD
from tests.web.browser import PHONE, log_in, screenshot
from tests.web.fixtures import new_page

START = (datetime.now(UTC) + timedelta(days=3)).date()
RENTAL = {
    "purpose": "offer", "mode": "rent", "title": "Cordless drill",
    "description": "18 V, two batteries.",
    "price": {"amount": "5.00", "currency": "EUR", "per": "P1D"},
    "deposit": {"amount": "50", "currency": "EUR"},
}
#: Where the page goes after an action: the exchange, never the offer form.
EXCHANGE_URL = re.compile(r"/exchanges/(?!new)[A-Za-z0-9_-]+(#main)?$")


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    open_registration = {"registration": "open"}
    a = await Node("a", tmp_path / "a", overrides=open_registration).start()
    b = await Node("b", tmp_path / "b", overrides=open_registration).start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def signed_in(browser: Browser, node: Node, username: str, viewport: Any = None) -> Page:
    page = await new_page(browser, viewport) if viewport else await new_page(browser)
    await log_in(page, node.url, username, TEST_PASSWORD)
    return page


async def click_and_land(page: Page, button: str, notice: str) -> None:
    """Press a button on an exchange page and see the notice of its success."""
    await page.get_by_role("button", name=button, exact=True).click()
    await page.wait_for_url(EXCHANGE_URL)
    await expect(page.locator(".notice")).to_have_text(notice)


async def send_message(page: Page, text: str) -> None:
    await page.get_by_label("Your message").fill(text)
    await click_and_land(page, "Send message", "Your message was sent.")


async def test_a_rental_from_offer_to_ratings_across_two_nodes(
    browser: Browser, pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice = await a.member("alice")
    await b.member("bob")
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=RENTAL)
    assert status == 201, listing
    page_a = await signed_in(browser, a, "alice")
    page_b = await signed_in(browser, b, "bob")
    # Confirmation dialogs (data-confirm) are accepted, as a member would.
    for page in (page_a, page_b):
        page.on("dialog", lambda dialog: dialog.accept())

    # Bob, on B, opens the offer form for Alice's listing on A.
    await page_b.goto(f"{b.url}/exchanges/new?listing={quote(listing['iri'], safe='')}")
    summary = page_b.get_by_role("region", name="Cordless drill")
    await expect(summary).to_contain_text("5.00 EUR per day")
    await expect(summary).to_contain_text("50 EUR")
    await expect(summary).to_contain_text(f"from {a.host}")

    # An end before the start is refused beside the field, with 422.
    await page_b.get_by_label("Start date").fill(day(2))
    await page_b.get_by_label("End date").fill(day(0))
    async with page_b.expect_response(lambda r: r.request.method == "POST") as refused:
        await page_b.get_by_role("button", name="Send offer").click()
    assert (await refused.value).status == 422
    await expect(page_b.locator("#error-end")).to_have_text("must be after start")
    await expect(page_b.get_by_label("Start date")).to_have_value(day(2))
    await screenshot(page_b, "exchange-offer-form-error")

    await page_b.get_by_label("Start date").fill(day(0))
    await page_b.get_by_label("End date").fill(day(2))
    await page_b.get_by_label("Message to the owner").fill("Free this weekend?")
    await page_b.get_by_role("button", name="Send offer").click()
    await page_b.wait_for_url(EXCHANGE_URL)
    await expect(page_b.locator(".notice")).to_have_text("Your offer was sent.")
    await expect(page_b.locator(".exchange-price")).to_have_text("10.00 EUR")
    await expect(page_b.get_by_text("Waiting for")).to_be_visible()
    exchange_on_b = page_b.url.split("#")[0]
    await settle(a, b)

    # Alice sees the offer under the ones waiting for her answer, from B.
    await page_a.goto(f"{a.url}/exchanges")
    waiting = page_a.get_by_role("region", name=re.compile("Offers waiting for your answer"))
    await expect(waiting).to_contain_text("Cordless drill")
    await expect(waiting).to_contain_text(f"bob@{b.host}")
    await expect(waiting).to_contain_text("Offer made")
    await screenshot(page_a, "exchanges-list")
    await waiting.get_by_role("link", name="Cordless drill").click()
    await expect(page_a.get_by_role("region", name="History")).to_contain_text(
        "Free this weekend?"
    )
    exchange_on_a = page_a.url

    # Alice counters with a lower price; Bob sees it and accepts.
    await page_a.get_by_text("Propose different terms").click()
    await page_a.get_by_label("Price per unit in EUR").fill("4.00")
    await page_a.get_by_label("Note with your terms").fill("4 a day for you")
    await click_and_land(page_a, "Send these terms", "Your new terms were sent.")
    await settle(a, b)
    await page_b.goto(exchange_on_b)
    await expect(page_b.locator(".exchange-price")).to_have_text("8.00 EUR")
    await expect(page_b.locator(".exchange-status")).to_contain_text("Counter-offer made")
    await click_and_land(page_b, "Accept the offer", "You accepted the offer.")
    await settle(a, b)

    # Both write; each message reaches the other node.
    await page_a.goto(exchange_on_a)
    await expect(page_a.locator(".exchange-status")).to_contain_text("Agreed")
    await send_message(page_a, "Pick it up on Saturday at <b>ten</b>?")
    await settle(a, b)
    await page_b.goto(exchange_on_b)
    await send_message(page_b, "Perfect, see you then.")
    await settle(a, b)
    for page, url in ((page_a, exchange_on_a), (page_b, exchange_on_b)):
        await page.goto(url)
        thread = page.get_by_role("region", name="Messages").locator(".thread li")
        # Messages sort by their published second, so two within one second
        # may show either way round: check each is there, with its author.
        await expect(thread).to_have_count(2)
        # Member text is shown as written, never as markup.
        await expect(thread.filter(has_text="Saturday at <b>ten</b>?")).to_contain_text(
            "You" if page is page_a else "alice"
        )
        await expect(thread.filter(has_text="Perfect, see you then.")).to_contain_text(
            "bob" if page is page_a else "You"
        )

    # Handover (Alice), return (Bob), completion (both).
    await click_and_land(page_a, "Confirm the handover", "You confirmed the handover.")
    await expect(page_a.locator(".exchange-status")).to_contain_text("On loan")
    await screenshot(page_a, "exchange-on-loan")
    await settle(a, b)
    await page_b.goto(exchange_on_b)
    await click_and_land(page_b, "Confirm the return", "You confirmed the return.")
    await settle(a, b)
    await page_a.goto(exchange_on_a)
    await click_and_land(page_a, "Confirm completion", "You confirmed completion.")
    await expect(page_a.get_by_text("waiting for bob to confirm too")).to_be_visible()
    await settle(a, b)
    await page_b.goto(exchange_on_b)
    await click_and_land(page_b, "Confirm completion", "You confirmed completion.")
    await expect(page_b.locator(".exchange-status")).to_contain_text("Completed")
    await settle(a, b)

    # Both rate each other; Bob's rating, issued on B, shows on A as verified.
    await page_b.get_by_role("combobox", name="Rating").select_option("4")
    await page_b.get_by_label("Comment").fill("Worked perfectly, thanks!")
    await click_and_land(page_b, "Publish your rating", "Your rating was published.")
    await page_a.goto(exchange_on_a)
    await expect(page_a.locator(".exchange-status")).to_contain_text("Completed")
    await page_a.get_by_role("combobox", name="Rating").select_option("5")
    await click_and_land(page_a, "Publish your rating", "Your rating was published.")
    await settle(a, b)
    for page, url, theirs, rating in (
        (page_a, exchange_on_a, "bob's rating of you", "4 out of 5"),
        (page_b, exchange_on_b, "alice's rating of you", "5 out of 5"),
    ):
        await page.goto(url)
        received = page.get_by_role("article").filter(
            has=page.get_by_role("heading", name=theirs)
        )
        await expect(received).to_contain_text(rating)
        await expect(received).to_contain_text("Verified")
    await expect(page_a.get_by_role("article").first).to_contain_text("Worked perfectly")
    await screenshot(page_a, "exchange-completed")
    phone = await signed_in(browser, b, "bob", PHONE)
    await phone.goto(exchange_on_b)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "exchange-completed-phone")


class Visitor:
    """A member's browser without a browser: a session cookie, and a CSRF
    token of its own choosing echoed in every form (the double-submit check)."""

    CSRF = "test-csrf-token-of-this-visitor"

    def __init__(self, node: Node, token: str | None) -> None:
        cookies = {"kula_csrf": self.CSRF, **({"kula_session": token} if token else {})}
        self.session = aiohttp.ClientSession(
            base_url=node.url, cookies=cookies, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(path, allow_redirects=False) as response:
            return response.status, await response.text()

    async def post(self, path: str, **fields: str) -> tuple[int, str]:
        async with self.session.post(
            path, data={"csrf_token": self.CSRF, **fields}, allow_redirects=False
        ) as response:
            return response.status, await response.text()

    async def close(self) -> None:
        await self.session.close()


async def login_token(node: Node, username: str) -> str:
    """A session token, as the login form sets it: pages take no API tokens."""
    status, body = await node.api(
        "POST", "/api/v1/sessions", json={"username": username, "password": TEST_PASSWORD}
    )
    assert status == 201, body
    return body["token"]


async def test_strangers_conflicts_and_bad_input_get_clear_answers(web_node: Node) -> None:
    node = web_node
    alice, bob = [await node.member(name) for name in ("alice", "bob")]
    await node.member("carol")
    status, listing = await node.api("POST", "/api/v1/listings", alice, json={
        "purpose": "offer", "mode": "sell", "title": "Bike",
        "price": {"amount": "40", "currency": "EUR"}})
    assert status == 201, listing
    status, offered = await node.api(
        "POST", "/api/v1/exchanges", bob, json={"listing": listing["id"]}
    )
    assert status == 201, offered
    exchange = f"/exchanges/{offered['id']}"
    as_alice, as_bob, as_carol, anonymous = (
        Visitor(node, await login_token(node, "alice")),
        Visitor(node, await login_token(node, "bob")),
        Visitor(node, await login_token(node, "carol")),
        Visitor(node, None)
    )
    try:
        status, _ = await anonymous.get("/exchanges")
        assert status == 303
        # Someone who is not a party sees nothing and can do nothing.
        status, body = await as_carol.get(exchange)
        assert status == 404 and "no such exchange of yours" in body
        status, _ = await as_carol.post(f"{exchange}/accept")
        assert status == 404
        status, body = await as_carol.get("/exchanges")
        assert status == 200 and "Bike" not in body

        # Accepting twice: the second answer says why, as a page, with 409.
        status, _ = await as_alice.post(f"{exchange}/accept")
        assert status == 303
        status, body = await as_alice.post(f"{exchange}/accept")
        assert status == 409
        assert "That could not be done" in body and "Accept is not allowed" in body
        # A cancellation needs a reason, said beside the field.
        status, body = await as_bob.post(f"{exchange}/cancel", content="")
        assert status == 422 and "cancel needs a reason" in body
        assert 'id="cancel-reason"' in body
        status, body = await as_bob.post(f"{exchange}/handover")
        assert status == 303
        status, body = await as_bob.post(f"{exchange}/return")
        assert status == 409

        # Bad input re-renders the form with the message and 422.
        status, body = await as_bob.post(f"{exchange}/messages", text="   ")
        assert status == 422 and "a message is 1 to 5000 characters" in body
        status, body = await as_bob.post(f"{exchange}/cancel", content="Changed my mind")
        assert status == 409  # handed over: cancelling is no longer possible
        status, body = await as_bob.post(
            "/exchanges/new", listing=listing["iri"], quantity="lots"
        )
        assert status == 422 and "enter a whole number" in body
        status, body = await as_alice.post("/exchanges/new", listing=listing["iri"])
        assert status == 403 and "your own listing" in body
        status, body = await as_bob.get("/exchanges/new?listing=https%3A%2F%2F")
        assert status in (404, 422) and "<h1>" in body
        # A listing on a node that cannot be reached: an error page, not a crash.
        status, body = await as_bob.get(
            "/exchanges/new?listing=" + quote("http://127.0.0.1:9/listings/x", safe="")
        )
        assert 400 <= status < 500 or status in (502, 504)
        assert "<h1>" in body
    finally:
        for visitor in (as_alice, as_bob, as_carol, anonymous):
            await visitor.close()
