"""Public questions on listing pages in a real browser across two real nodes:
a member of B asks from B's page, the author on A answers one question and
hides another through A's page, and every page shows only what it should.
Plus the refusals a plain HTTP client meets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, expect

from node.services import accounts, tokens
from tests.federation.harness import Node, settle
from tests.support import TEST_PASSWORD
from tests.web.browser import log_in, screenshot
from tests.web.fixtures import new_page
from tests.web.listing_support import session_cookie
from tests.web.page_posts import post

GIFT = {"purpose": "offer", "mode": "give", "title": "Children's bike",
        "description": "Blue, 16 inch."}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a = await Node("a", tmp_path / "a", overrides={"registration": "open"}).start()
    b = await Node("b", tmp_path / "b", overrides={"registration": "open"}).start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def signed_in(browser: Browser, node: Node, username: str) -> Page:
    page = await new_page(browser)
    await log_in(page, node.url, username, TEST_PASSWORD)
    return page


async def test_a_question_from_another_node_is_answered_and_another_hidden(
    browser: Browser, pair: tuple[Node, Node]
) -> None:
    a, b = pair
    alice = await a.member("alice")
    carol = await a.member("carol", scope="write")
    await b.member("bob", scope="write")
    status, listing = await a.api("POST", "/api/v1/listings", alice, json=GIFT)
    assert status == 201, listing
    status, asked = await a.api("POST", f"/api/v1/listings/{listing['id']}/questions", carol,
                                json={"content": "<b>Is it still free?</b>"})
    assert status == 201, asked

    # Bob asks from B's page for the listing.
    bob_page = await signed_in(browser, b, "bob")
    remote_url = f"{b.url}/remote/listing?iri={quote(listing['iri'], safe='')}"
    await bob_page.goto(remote_url)
    questions_b = bob_page.get_by_role("region", name="Questions")
    await questions_b.get_by_label("Ask a question").fill("Does it come with a helmet?\nA red one?")
    await questions_b.get_by_role("button", name="Ask").click()
    await expect(bob_page.locator(".notice")).to_have_text("Your question is published.")
    await expect(questions_b.locator(".question-text")).to_have_text(
        "Does it come with a helmet?\nA red one?")
    await settle(a, b)

    # Alice sees both on A's page; markup in a question is shown as text.
    alice_page = await signed_in(browser, a, "alice")
    await alice_page.goto(f"{a.url}/listings/{listing['id']}")
    questions_a = alice_page.get_by_role("region", name="Questions")
    await expect(questions_a.locator(".question")).to_have_count(2)
    await expect(questions_a.get_by_text("<b>Is it still free?</b>")).to_be_visible()
    bobs = questions_a.locator(".question", has_text="helmet")
    await bobs.get_by_text("Answer", exact=True).click()
    await bobs.get_by_label("Your answer").fill("Yes, a red one.")
    await bobs.get_by_role("button", name="Publish answer").click()
    await expect(alice_page.locator(".notice")).to_have_text("Your answer is published.")
    await expect(bobs.locator(".answer-text")).to_have_text("Yes, a red one.")
    carols = questions_a.locator(".question", has_text="still free")
    await carols.get_by_role("button", name="Hide").click()
    await expect(alice_page.locator(".notice")).to_contain_text("The question is hidden")
    await expect(carols).to_contain_text("Hidden: others do not see it")
    await expect(carols.get_by_role("button", name="Show")).to_be_visible()
    await screenshot(alice_page, "listing-questions-author")
    await settle(a, b)

    # Bob's page shows the answer; nobody but the author sees the hidden one.
    await bob_page.reload()
    await expect(questions_b.locator(".answer-text")).to_have_text("Yes, a red one.")
    await expect(questions_b).not_to_contain_text("still free")
    await screenshot(bob_page, "listing-questions-remote")
    carol_page = await signed_in(browser, a, "carol")
    await carol_page.goto(f"{a.url}/listings/{listing['id']}")
    await expect(carol_page.locator(".question")).to_have_count(1)
    await expect(carol_page.get_by_role("region", name="Questions")).not_to_contain_text(
        "still free")
    assert await carol_page.get_by_role("button", name="Hide").count() == 0

    # The author shows it again.
    await carols.get_by_role("button", name="Show").click()
    await expect(alice_page.locator(".notice")).to_have_text("The question is shown again.")
    await carol_page.reload()
    await expect(carol_page.locator(".question")).to_have_count(2)


async def test_question_forms_refuse_bad_input_and_strangers(web_node: Node) -> None:
    node = web_node
    alice = await node.member("alice")
    await node.member("bob")
    await node.member("dora", scope="write")
    status, listing = await node.api("POST", "/api/v1/listings", alice, json=GIFT)
    assert status == 201, listing
    ask = f"/listings/{listing['id']}/questions"
    bob = await session_cookie(node, "bob")

    status, body = await post(node, ask, bob, content="   ")
    assert status == 422 and "Write 1 to 2000 characters." in body
    assert 'id="question-error"' in body
    status, body = await post(node, ask, bob, content="Hi\u0000there")
    assert status == 422 and "U+0000" in body
    status, body = await post(node, ask, bob, content="Hi", csrf_token="forged")
    assert status == 403
    status, location = await post(node, ask, {}, content="Hi")
    assert (status, location) == (303, f"/login?next={ask}")
    status, location = await post(node, ask, bob, content="Which size?")
    assert status == 303 and location.startswith(f"/listings/{listing['id']}#question-")
    question_id = location.rsplit("#question-", 1)[-1]

    # Only the author answers; only the author (or an administrator) hides.
    status, body = await post(node, f"/questions/{question_id}/answer", bob, content="Me?")
    assert status == 403 and "answers its questions" in body
    dora = await session_cookie(node, "dora")
    status, body = await post(node, f"/questions/{question_id}/hide", dora)
    assert status == 403
    status, body = await post(node, f"/questions/{question_id}/answer",
                              await session_cookie(node, "alice"), content=" ")
    assert status == 422 and 'id="answer-error-' in body and "Which size?" in body
    status, body = await post(node, ask, await session_cookie(node, "alice"), content="Mine?")
    assert status == 409
    status, body = await post(node, "/questions/nope/hide", bob)
    assert status == 404

    # An administrator (an admin session, as the login gives them) hides it too;
    # the author then cannot show what a moderator hid.
    admin = await accounts.get_member_by_username(node.ctx, "bob")
    issued = await tokens.issue_token(node.ctx, admin, "web session", "admin", kind="session")
    status, location = await post(node, f"/questions/{question_id}/hide",
                                  {"kula_session": issued.secret})
    assert status == 303, location
    status, items = await node.api("GET", f"/api/v1/listings/{listing['id']}/questions")
    assert items["items"] == []
    status, body = await post(node, f"/questions/{question_id}/unhide",
                              await session_cookie(node, "alice"))
    assert status == 403 and "a moderator hid this question" in body
