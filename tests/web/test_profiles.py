"""Member profiles in a real browser: listings, attestations, reputation with
its evidence, following here and on another node, and content negotiation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, expect

from tests.federation.harness import Node, settle
from tests.support import TEST_PASSWORD
from tests.web.account_helpers import attest, completed_exchange, form_client
from tests.web.browser import PHONE, log_in, screenshot
from tests.web.fixtures import new_page


@pytest.fixture
async def other_node(tmp_path: Path) -> AsyncIterator[Node]:
    node = await Node("b", tmp_path / "b").start()
    try:
        yield node
    finally:
        await node.stop()


async def test_a_profile_shows_listings_attestations_and_reputation(
    browser: Browser, page: Page, web_node: Node
) -> None:
    alice = await web_node.member("alice", scope="write")
    bob = await web_node.member("bob", scope="write")
    _, deal = await completed_exchange(web_node, alice, bob)
    await attest(web_node, bob, deal["id"], 5, "Lovely bicycle, <b>fair</b> price")
    await attest(web_node, alice, deal["id"], 4, "Punctual")

    await page.goto(web_node.url + "/@alice")
    await expect(page.get_by_role("heading", level=1)).to_have_text("alice")
    listings = page.get_by_role("region", name="Listings")
    await expect(listings.get_by_role("link", name="Tandem bicycle")).to_be_visible()
    received = page.get_by_role("region", name="Attestations received")
    # Member text is shown as text, never as markup.
    await expect(received).to_contain_text("Lovely bicycle, <b>fair</b> price")
    await expect(received.get_by_role("link", name="bob")).to_have_attribute("href", "/@bob")
    await expect(received).to_contain_text("verified · counts")
    await expect(received.get_by_label("5 of 5 stars")).to_be_visible()
    given = page.get_by_role("region", name="Attestations given")
    await expect(given).to_contain_text("Punctual")
    reputation = page.get_by_role("complementary", name="Reputation")
    await expect(reputation).to_contain_text("out of 5")
    await expect(reputation).to_contain_text("Likely between")
    await expect(reputation).to_contain_text("From 1 attestation.")
    await expect(page.get_by_role("link", name="Report this member")).to_have_attribute(
        "href", "/report?kind=member&target=" + quote(web_node.actor("alice"), safe="")
    )
    await screenshot(page, "profile-desktop")

    await reputation.get_by_role("link", name="See the attestations that count").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reputation of alice")
    row = page.get_by_role("row").filter(has_text="bob")
    await expect(row).to_contain_text("Lovely bicycle")
    await expect(row.get_by_role("link", name="signed credential")).to_have_attribute(
        "href", re.compile("^" + re.escape(web_node.url + "/attestations/"))
    )
    await screenshot(page, "profile-reputation-evidence")

    phone = await new_page(browser, PHONE)
    await phone.goto(web_node.url + "/@alice")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "profile-phone")


async def test_the_actor_iri_answers_browsers_with_the_page_and_servers_with_json(
    web_node: Node,
) -> None:
    await web_node.member("alice", scope="write")
    assert web_node.session is not None
    async with web_node.session.get(
        "/users/alice", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "Accept" in response.headers["Vary"]
        assert "<h1>alice</h1>" in await response.text()
    for accept in ("application/activity+json", 'application/ld+json; profile="x"', None):
        headers = {"Accept": accept} if accept else {}
        async with web_node.session.get("/users/alice", headers=headers) as response:
            assert response.status == 200, accept
            assert response.content_type == "application/activity+json", accept
            assert (await response.json(content_type=None))["type"] == "Person"
    async with web_node.session.get("/users/nobody", headers={"Accept": "text/html"}) as response:
        assert response.status == 404
        assert response.content_type == "text/html"


async def test_following_a_member_on_another_node_from_their_profile(
    page: Page, web_node: Node, other_node: Node
) -> None:
    await web_node.member("alice", scope="write")
    await other_node.member("bob", scope="write")
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/remote/actor")
    await page.get_by_label("Handle or address").fill(f"@bob@{other_node.host}")
    await page.get_by_role("button", name="Look up").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("bob")
    await expect(page.get_by_role("main")).to_contain_text(f"@bob@{other_node.host}")
    await page.get_by_role("button", name="Follow", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Follow requested")
    await expect(page.get_by_text("Follow requested", exact=True)).to_be_visible()

    await settle(web_node, other_node)
    await page.reload()
    await expect(page.get_by_text("You follow them")).to_be_visible()
    await screenshot(page, "profile-remote")
    status, collection = await other_node.api("GET", "/users/bob/followers?page=1")
    assert collection["orderedItems"] == [web_node.actor("alice")]

    await page.get_by_role("button", name="Unfollow").click()
    await expect(page.get_by_role("status")).to_contain_text("You no longer follow them.")
    await settle(web_node, other_node)
    status, collection = await other_node.api("GET", "/users/bob/followers?page=1")
    assert status == 200
    assert collection["orderedItems"] == []


async def test_following_a_member_here_from_their_profile(page: Page, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    await web_node.member("carol", scope="write")
    await page.goto(web_node.url + "/@carol")
    await page.get_by_role("link", name="Log in to follow").click()
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(web_node.url + "/@carol")
    await page.get_by_role("button", name="Follow", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("You now follow them.")
    await expect(page.get_by_role("main")).to_contain_text("1 follower")
    await page.get_by_role("button", name="Unfollow").click()
    await expect(page.get_by_role("main")).to_contain_text("0 followers")
    # Your own profile offers to edit it, not to follow yourself.
    await page.goto(web_node.url + "/@alice")
    await expect(page.get_by_role("link", name="Edit your profile")).to_be_visible()
    assert await page.get_by_role("button", name="Follow", exact=True).count() == 0


async def test_lookups_explain_what_went_wrong(web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    async with form_client(web_node) as client:
        status, _, response = await client.get("/remote/actor?q=x")
        assert status == 303
        # The next target is encoded, so its own query survives the trip.
        assert response.headers["Location"] == "/login?next=/remote/actor?q%3Dx"
        await client.log_in("alice", TEST_PASSWORD)
        status, body, _ = await client.get("/remote/actor?q=nohandle")
        assert status == 422
        assert "name a handle" in body
        status, body, _ = await client.get(f"/remote/actor?q=nobody@{web_node.host}")
        assert status == 404
        assert 'id="error-q"' in body
        # A local handle is this node's own profile page.
        status, _, response = await client.get(f"/remote/actor?q=alice@{web_node.host}")
        assert status == 303
        assert response.headers["Location"] == "/@alice"
        status, body, _ = await client.get("/@nobody")
        assert status == 404
        status, body, _ = await client.get("/reputation?actor=nobody")
        assert status == 422
