"""Vouches on profile pages in a real browser across two real nodes: a member
of B vouches for a member of A from A's member's profile on B, both nodes
list the voucher, the vouch is in the member's export, and it is revoked.
Plus the refusals a plain HTTP client meets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, expect

from protocol.validation import validate
from tests.federation.harness import Node, settle
from tests.support import TEST_PASSWORD
from tests.web.browser import log_in, screenshot
from tests.web.fixtures import new_page
from tests.web.listing_support import session_cookie
from tests.web.page_posts import post


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a = await Node("a", tmp_path / "a", overrides={"registration": "open"}).start()
    b = await Node("b", tmp_path / "b", overrides={"registration": "open"}).start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def test_a_member_vouches_for_someone_on_another_node_and_revokes(
    browser: Browser, pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice = await a.member("alice")
    await b.member("bob")
    page = await new_page(browser)
    await log_in(page, b.url, "bob", TEST_PASSWORD)
    confirmations: list[str] = []

    async def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        confirmations.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    profile = f"{b.url}/remote/actor?iri={quote(a.actor('alice'), safe='')}"
    await page.goto(profile)
    vouches = page.get_by_role("region", name="Vouched for by")
    await expect(vouches).to_contain_text("Nobody this node knows of has vouched for them yet.")
    await expect(vouches).to_contain_text("A vouch says “I know this person”")
    await vouches.get_by_role("button", name="Vouch for alice").click()
    await expect(page.locator(".notice")).to_contain_text("You vouched for them")
    assert "I know this person" in confirmations[0]
    await expect(vouches.get_by_role("listitem")).to_have_count(1)
    await expect(vouches.get_by_role("link", name="bob")).to_be_visible()
    await expect(vouches.get_by_role("button", name="Revoke your vouch")).to_be_visible()
    assert await vouches.get_by_role("button", name="Vouch for alice").count() == 0
    reputation = page.get_by_role("complementary", name="Reputation")
    await expect(reputation.get_by_text("1 vouch feeds their trust here.")).to_be_visible()
    await screenshot(page, "profile-vouched")
    await settle(a, b)

    # A holds bob's signed vouch: alice's profile lists it and her export has it.
    anonymous = await new_page(browser)
    await anonymous.goto(f"{a.url}/@alice")
    on_a = anonymous.get_by_role("region", name="Vouched for by")
    await expect(on_a.get_by_role("listitem")).to_contain_text(f"@bob@{b.host}")
    assert await on_a.get_by_role("button").count() == 0
    evidence = await new_page(browser)
    await evidence.goto(f"{a.url}/reputation?actor={quote(a.actor('alice'), safe='')}")
    await expect(evidence.locator(".vouch-list li")).to_contain_text(f"@bob@{b.host}")
    status, export = await a.api("GET", "/api/v1/me/export", alice)
    assert status == 200, export
    validate(export, "api-export")
    received = export["vouches"]["received"]
    assert [v["issuer"] for v in received] == [b.actor("bob")]
    assert received[0]["credential"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"

    await vouches.get_by_role("button", name="Revoke your vouch").click()
    await expect(page.locator(".notice")).to_have_text("Your vouch is revoked.")
    await expect(vouches.get_by_role("listitem")).to_have_count(0)
    await expect(vouches.get_by_role("button", name="Vouch for alice")).to_be_visible()
    await settle(a, b)
    await anonymous.reload()
    await expect(on_a.get_by_role("listitem")).to_have_count(0)


async def test_vouch_forms_refuse_bad_input_and_strangers(web_node: Node) -> None:
    node = web_node
    await node.member("alice")
    await node.member("bob")
    alice, bob = await session_cookie(node, "alice"), await session_cookie(node, "bob")
    target = node.actor("bob")

    status, body = await post(node, "/vouch", alice, target=target, csrf_token="forged")
    assert status == 403
    status, location = await post(node, "/vouch", {}, target=target)
    assert (status, location) == (303, "/login?next=/vouch")
    status, body = await post(node, "/vouch", bob, target=target, next="/@bob")
    assert status == 422 and "you cannot vouch for yourself" in body
    status, location = await post(node, "/vouch", alice, target=target, next="/@bob")
    assert (status, location) == (303, "/@bob")
    # A second vouch is explained, not an error page; the profile offers to revoke.
    status, location = await post(node, "/vouch", alice, target=target, next="/@bob")
    assert (status, location) == (303, "/@bob")
    assert node.session is not None
    async with node.session.get("/@bob", cookies=alice) as got:
        html = await got.text()
    assert "Revoke your vouch" in html and "Vouch for bob" not in html
    vouch_id = html.split('action="/vouches/', 1)[1].split("/revoke", 1)[0]
    status, body = await post(node, f"/vouches/{vouch_id}/revoke", bob, next="/@bob")
    assert status == 404
    status, location = await post(node, f"/vouches/{vouch_id}/revoke", alice,
                                  next="https://elsewhere.example/")
    assert (status, location) == (303, "/")  # never sent to another site
    status, body = await post(node, f"/vouches/{vouch_id}/revoke", alice, next="/@bob")
    assert status == 409
