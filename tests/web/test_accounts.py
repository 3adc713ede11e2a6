"""Joining, signing in and the member's own account pages, in a real browser
where it matters and over plain HTTP for the refusals."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.federation.harness import Node
from tests.support import TEST_PASSWORD
from tests.web.account_helpers import LISTING, form_client
from tests.web.browser import PHONE, log_in, screenshot
from tests.web.fixtures import new_page

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def invite_node(tmp_path: Path) -> AsyncIterator[Node]:
    node = await Node("invite", tmp_path / "invite", overrides={"registration": "invite"}).start()
    try:
        yield node
    finally:
        await node.stop()


@pytest.fixture
async def closed_node(tmp_path: Path) -> AsyncIterator[Node]:
    node = await Node("closed", tmp_path / "closed", overrides={"registration": "closed"}).start()
    try:
        yield node
    finally:
        await node.stop()


async def fill_signup(page: Page, username: str, password: str) -> None:
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)


async def test_signing_up_on_an_open_node_lands_logged_in(page: Page, web_node: Node) -> None:
    await page.goto(web_node.url + "/signup")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Join Community web")
    # No invite field on an open node.
    assert await page.get_by_label("Invite code").count() == 0
    await screenshot(page, "signup-desktop")
    await fill_signup(page, "Dana", TEST_PASSWORD)  # phones capitalise; usernames are lowercase
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(web_node.url + "/")
    await expect(page.get_by_role("status")).to_contain_text("Welcome, dana!")
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Account")).to_be_visible()
    await expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    status, member = await web_node.api("GET", "/api/v1/members/dana")
    assert status == 200, member


async def test_signup_with_an_invite_code_on_an_invite_only_node(
    page: Page, invite_node: Node
) -> None:
    admin = await invite_node.member("olga")
    status, invite = await invite_node.api("POST", "/api/v1/admin/invites", admin, json={})
    assert status == 201, invite
    # A wrong code is refused beside the field, and the account is not created.
    await page.goto(invite_node.url + "/signup")
    await fill_signup(page, "erin", TEST_PASSWORD)
    await page.get_by_label("Invite code").fill("not-a-code")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#error-invite_code")).to_contain_text("invite code")
    assert (await invite_node.api("GET", "/api/v1/members/erin"))[0] == 404
    # The link an operator shares fills the code in.
    await page.goto(f"{invite_node.url}/signup?invite={invite['code']}")
    await expect(page.get_by_label("Invite code")).to_have_value(invite["code"])
    await fill_signup(page, "erin", TEST_PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(invite_node.url + "/")
    await expect(page.get_by_role("status")).to_contain_text("Welcome, erin!")
    assert (await invite_node.api("GET", "/api/v1/members/erin"))[0] == 200


async def test_a_closed_node_explains_and_refuses_sign_ups(closed_node: Node) -> None:
    async with form_client(closed_node) as client:
        status, body, _ = await client.get("/signup")
        assert status == 200
        assert "Registration on this node is closed" in body
        assert 'action="/signup"' not in body
        status, body, _ = await client.post(
            "/signup", {"username": "mallory", "password": TEST_PASSWORD}
        )
        assert status == 403
        assert "closed" in body
    assert (await closed_node.api("GET", "/api/v1/members/mallory"))[0] == 404


async def test_a_wrong_password_shows_a_visible_error(page: Page, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    await page.goto(web_node.url + "/login")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_be_visible()
    await expect(alert).to_contain_text("Unknown username or wrong password.")
    await expect(page.get_by_label("Username")).to_have_value("alice")
    await screenshot(page, "login-error")


async def test_login_follows_next_but_never_to_another_site(page: Page, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    await page.goto(web_node.url + "/account")
    # Pages that need a member send the browser to log in first, and back after.
    await page.wait_for_url(re.compile(r"/login\?next=/account$"))
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(web_node.url + "/account")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(web_node.url + "/")
    await expect(page.get_by_role("status")).to_contain_text("You are logged out.")

    await page.goto(web_node.url + "/login?next=//evil.example/steal")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(web_node.url + "/")


async def test_changing_the_password_then_logging_in_again(page: Page, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/account")
    await page.get_by_label("Current password").fill("wrong wrong wrong")
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.locator("#error-current_password")).to_have_text(
        "The current password is wrong."
    )
    await page.get_by_label("Current password").fill(TEST_PASSWORD)
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed.")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(web_node.url + "/")
    await page.goto(web_node.url + "/login")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("wrong password")
    await log_in(page, web_node.url, "alice", NEW_PASSWORD)
    await expect(page.get_by_role("link", name="Account")).to_be_visible()


async def test_a_new_password_signs_out_every_other_session(
    browser: Browser, web_node: Node
) -> None:
    alice_token = await web_node.member("alice", scope="write")
    laptop, phone = await new_page(browser), await new_page(browser, PHONE)
    for device in (laptop, phone):
        await log_in(device, web_node.url, "alice", TEST_PASSWORD)
    await laptop.goto(web_node.url + "/account")
    await laptop.get_by_label("Current password").fill(TEST_PASSWORD)
    await laptop.get_by_label("New password").fill(NEW_PASSWORD)
    await laptop.get_by_role("button", name="Change password").click()
    await expect(laptop.get_by_role("status")).to_contain_text("Your password is changed.")
    await laptop.goto(web_node.url + "/account")
    await expect(laptop.get_by_role("button", name="Log out")).to_be_visible()
    await phone.goto(web_node.url + "/account")
    await phone.wait_for_url(re.compile(r"/login\?next="))
    # API tokens are not sessions: they keep working until revoked one by one.
    status, _ = await web_node.api("GET", "/api/v1/me", alice_token)
    assert status == 200


async def test_profile_settings_are_saved(page: Page, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/account")
    await page.get_by_label("Display name").fill("Alice Liddell")
    await page.get_by_label("About you").fill("Tools and tea.\nAsk me anything.")
    await page.get_by_label("Approve new followers by hand").check()
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    await expect(page.get_by_label("Display name")).to_have_value("Alice Liddell")
    await expect(page.get_by_label("Approve new followers by hand")).to_be_checked()
    await screenshot(page, "account-settings")
    status, member = await web_node.api("GET", "/api/v1/members/alice")
    assert status == 200
    assert member["display_name"] == "Alice Liddell"
    assert member["manually_approves_followers"] is True
    # An empty name is refused beside the field.
    await page.get_by_label("Display name").fill("")
    await page.get_by_label("Display name").evaluate("field => field.removeAttribute('required')")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#error-display_name")).to_be_visible()


async def test_a_token_secret_is_shown_once_and_works(page: Page, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/account/tokens")
    await page.get_by_label("Name").fill("phone app")
    await page.get_by_label("Scope").select_option("write")
    await page.get_by_role("button", name="Create token").click()
    secret = await page.get_by_label("Token secret").input_value()
    assert secret.startswith("kula")
    await screenshot(page, "account-token-created")
    status, me = await web_node.api("GET", "/api/v1/me", secret)
    assert status == 200 and me["username"] == "alice"
    # Never again: not on the list, not after a reload.
    await page.goto(web_node.url + "/account/tokens")
    assert secret not in await page.content()
    await expect(page.get_by_role("cell", name="phone app", exact=True)).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Revoke phone app").click()
    await expect(page.get_by_role("status")).to_contain_text("The token is revoked.")
    assert (await web_node.api("GET", "/api/v1/me", secret))[0] == 401


async def test_the_export_downloads_json_with_the_members_listing(
    page: Page, web_node: Node
) -> None:
    alice = await web_node.member("alice", scope="write")
    status, _ = await web_node.api("POST", "/api/v1/listings", alice, json=LISTING)
    assert status == 201
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/account")
    async with page.expect_download() as download_info:
        await page.get_by_role("region", name="Your data").get_by_role("link").click()
    download = await download_info.value
    assert re.fullmatch(r"kula-alice-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    saved = await download.path()
    document = json.loads(await asyncio.to_thread(Path(saved).read_text, encoding="utf-8"))
    assert document["profile"]["username"] == "alice"
    assert [listing["title"] for listing in document["listings"]] == ["Tandem bicycle"]


async def test_the_move_page_explains_and_refuses_an_unprepared_target(
    page: Page, web_node: Node
) -> None:
    await web_node.member("alice", scope="write")
    await web_node.member("alice2", scope="write")
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    await page.goto(web_node.url + "/account/move")
    await expect(page.get_by_role("main")).to_contain_text("cannot move this account again")
    await screenshot(page, "account-move")
    await page.get_by_label("New account").fill(f"alice2@{web_node.host}")
    await page.get_by_label("I understand that the move cannot be undone").check()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Move my account").click()
    # alice2 has not listed alice as an old account, so nothing moves.
    await expect(page.locator("#error-target")).to_contain_text("alsoKnownAs")
    status, member = await web_node.api("GET", "/api/v1/members/alice")
    assert status == 200
    assert member["moved_to"] is None


async def test_the_about_page_names_the_community_and_its_operators(
    page: Page, web_node: Node
) -> None:
    await web_node.member("olga")  # an operator
    await page.goto(web_node.url + "/about")
    await expect(page.get_by_role("heading", level=1)).to_have_text("About Community web")
    await expect(page.get_by_role("main")).to_contain_text("Registration is open")
    await expect(page.get_by_role("link", name="olga")).to_have_attribute("href", "/@olga")
    await expect(page.get_by_role("link", name="NodeInfo")).to_have_attribute(
        "href", "/nodeinfo/2.1"
    )


async def test_account_pages_fit_a_phone(browser: Browser, web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    page = await new_page(browser, PHONE)
    await page.goto(web_node.url + "/signup")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "signup-phone")
    await log_in(page, web_node.url, "alice", TEST_PASSWORD)
    for path in ("/account", "/account/tokens", "/account/move", "/about"):
        await page.goto(web_node.url + path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], path
    await screenshot(page, "account-phone")


# Plain HTTP: what a browser cannot easily show.

FORMS = {
    "/signup": {"username": "mallory", "password": TEST_PASSWORD},
    "/login": {"username": "alice", "password": TEST_PASSWORD},
    "/account/profile": {"display_name": "Hijacked"},
    "/account/password": {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    "/account/tokens": {"name": "stolen", "scope": "write"},
    "/account/move": {"target": "x@evil.example", "confirm": "yes"},
    "/account/aliases": {"aliases": "x@evil.example"},
    "/follow": {"target": "x@evil.example"},
    "/unfollow": {"target": "x@evil.example"},
    "/notifications/read": {"up_to": "1000"},
}


async def test_forms_posted_without_the_csrf_token_are_refused(web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    async with form_client(web_node) as client:
        await client.log_in("alice", TEST_PASSWORD)
        for path, data in FORMS.items():
            status, body, _ = await client.post(path, data, csrf=False)
            assert status == 403, path
            assert "Form expired" in body, path
            status, body, _ = await client.post(path, {**data, "csrf_token": "x" * 40},
                                                csrf=False)
            assert status == 403, path
    status, member = await web_node.api("GET", "/api/v1/members/alice")
    assert member["display_name"] == "alice"
    assert (await web_node.api("GET", "/api/v1/members/mallory"))[0] == 404


async def test_account_pages_send_strangers_to_the_login(web_node: Node) -> None:
    async with form_client(web_node) as client:
        for path in ("/account", "/account/tokens", "/account/move", "/account/export",
                     "/notifications"):
            status, _, response = await client.get(path)
            assert status == 303, path
            assert response.headers["Location"] == f"/login?next={path}"
        status, _, response = await client.post("/account/profile", {"display_name": "x"})
        assert status == 303
        assert response.headers["Location"].startswith("/login?next=")


async def test_signup_errors_are_shown_beside_the_fields(web_node: Node) -> None:
    await web_node.member("alice", scope="write")
    async with form_client(web_node) as client:
        status, body, _ = await client.post(
            "/signup", {"username": "alice", "password": TEST_PASSWORD}
        )
        assert status == 409
        assert 'id="error-username"' in body and "taken" in body
        status, body, _ = await client.post(
            "/signup", {"username": "no spaces", "password": TEST_PASSWORD}
        )
        assert status == 422
        assert 'id="error-username"' in body
        status, body, _ = await client.post("/signup", {"username": "zoe", "password": "short"})
        assert status == 422
        assert 'id="error-password"' in body
        assert 'value="zoe"' in body


async def test_too_many_login_attempts_get_a_friendly_page(tmp_path: Path) -> None:
    node = await Node(
        "limited", tmp_path / "limited", overrides={"rate_limit_auth_per_minute": 2}
    ).start()
    try:
        async with form_client(node) as client:
            statuses = []
            for _ in range(3):
                status, body, response = await client.post(
                    "/login", {"username": "nobody", "password": "whatever it is"}
                )
                statuses.append(status)
            assert statuses == [422, 422, 429]
            assert "text/html" in response.headers["Content-Type"]
            assert "Too many attempts" in body
            assert int(response.headers["Retry-After"]) >= 1
    finally:
        await node.stop()
