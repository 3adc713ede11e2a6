"""The operator's pages in a real browser: community settings, invites,
members, reports and the delivery queue; and the member's report form."""

from __future__ import annotations

import re

import jinja2
from playwright.async_api import Browser, Page, expect

from node.web.pages.site import TEMPLATE_DIR, gettext, ngettext
from tests.federation.harness import Node
from tests.support import TEST_PASSWORD
from tests.web.account_helpers import LISTING, form_client
from tests.web.browser import PHONE, log_in, screenshot
from tests.web.fixtures import new_page


async def operator_page(browser: Browser, node: Node, viewport: dict[str, int] | None = None
                        ) -> Page:
    """A browser logged in as the operator ``olga`` (created here)."""
    await node.member("olga")
    page = await new_page(browser, viewport) if viewport else await new_page(browser)
    await log_in(page, node.url, "olga", TEST_PASSWORD)
    return page


async def test_the_operator_renames_the_community_and_closes_registration(
    browser: Browser, web_node: Node
) -> None:
    page = await operator_page(browser, web_node)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Operator").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Running Community web")
    await page.get_by_role("navigation", name="Operator").get_by_role(
        "link", name="Community settings").click()
    await page.get_by_label("Community name").fill("Valley tools")
    await page.get_by_label("Registration").select_option("closed")
    await page.get_by_label("Rules").fill("Return what you borrow, clean.")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("status")).to_contain_text("settings are saved")
    # The header, the About page and NodeInfo say so at once.
    brand = page.get_by_role("banner").get_by_role("link", name="Valley tools")
    await expect(brand).to_be_visible()
    await page.goto(web_node.url + "/about")
    await expect(page.get_by_role("heading", name="Rules")).to_be_visible()
    await expect(page.get_by_text("Return what you borrow, clean.")).to_be_visible()
    status, info = await web_node.api("GET", "/nodeinfo/2.1")
    assert info["metadata"]["nodeName"] == "Valley tools"
    assert info["openRegistrations"] is False and info["metadata"]["registration"] == "closed"
    # A visitor is no longer offered a sign-up, and cannot sign up.
    visitor = await new_page(browser)
    await visitor.goto(web_node.url + "/")
    nav = visitor.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    assert await nav.get_by_role("link", name="Sign up").count() == 0
    status, refused = await web_node.api("POST", "/api/v1/members",
                                         json={"username": "zed", "password": TEST_PASSWORD})
    assert status == 403, refused


async def test_an_invite_made_on_the_invites_page_signs_someone_up(
    browser: Browser, web_node: Node
) -> None:
    page = await operator_page(browser, web_node)
    await page.goto(web_node.url + "/admin/settings")
    await page.get_by_label("Registration").select_option("invite")
    await page.get_by_role("button", name="Save settings").click()
    await page.goto(web_node.url + "/admin/invites")
    await page.get_by_label("Note").fill("for dana")
    await page.get_by_label("Vouch for whoever signs up with it").check()
    await page.get_by_role("button", name="Create invite").click()
    link = await page.get_by_label("Invite link").input_value()
    assert re.fullmatch(rf"{re.escape(web_node.url)}/signup\?invite=invite_[\w-]+", link), link

    newcomer = await new_page(browser)
    await newcomer.goto(link)
    await newcomer.get_by_label("Username").fill("dana")
    await newcomer.get_by_label("Password").fill(TEST_PASSWORD)
    await newcomer.get_by_role("button", name="Create account").click()
    await newcomer.wait_for_url(web_node.url + "/")
    await expect(newcomer.get_by_role("status")).to_contain_text("Welcome, dana!")
    # The operator's vouch came with the invite.
    status, vouches = await web_node.api("GET", "/api/v1/members/dana/vouches")
    assert status == 200, vouches
    assert len(vouches["received"]) == 1, vouches
    # The invite is spent.
    await page.goto(web_node.url + "/admin/invites")
    row = page.get_by_role("row").filter(has_text="for dana")
    await expect(row).to_contain_text("1 of 1")
    await expect(row).to_contain_text("used up")


async def test_the_operator_suspends_a_member_with_a_reason(
    browser: Browser, web_node: Node
) -> None:
    await web_node.member("carol", scope="write")
    page = await operator_page(browser, web_node)
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(web_node.url + "/admin/members")
    await page.get_by_role("searchbox", name="Username or name").fill("car")
    await page.get_by_role("button", name="Find").click()
    await page.get_by_label("Reason for suspending carol").fill("Sold stolen tools.")
    await page.get_by_role("button", name="Suspend carol").click()
    await expect(page.get_by_role("status")).to_contain_text("carol is suspended")
    await expect(page.get_by_text("Sold stolen tools.")).to_be_visible()
    status, refused = await web_node.api("POST", "/api/v1/sessions",
                                         json={"username": "carol", "password": TEST_PASSWORD})
    assert status == 403, refused
    await page.get_by_role("button", name="Lift the suspension of carol").click()
    await expect(page.get_by_role("status")).to_contain_text("carol may use the community")
    status, _ = await web_node.api("POST", "/api/v1/sessions",
                                   json={"username": "carol", "password": TEST_PASSWORD})
    assert status == 201


async def test_a_member_reports_a_listing_and_the_operator_hides_it(
    browser: Browser, web_node: Node
) -> None:
    alice = await web_node.member("alice", scope="write")
    await web_node.member("bob", scope="write")
    status, listing = await web_node.api("POST", "/api/v1/listings", alice, json=LISTING)
    assert status == 201, listing

    member = await new_page(browser)
    await log_in(member, web_node.url, "bob", TEST_PASSWORD)
    await member.goto(listing["iri"])
    await member.get_by_role("link", name="Report this listing").click()
    await expect(member.get_by_role("heading", level=1)).to_have_text("Report a listing")
    await expect(member.get_by_role("link", name="Tandem bicycle")).to_be_visible()
    await member.get_by_label("What is wrong?").select_option("fraud")
    await member.get_by_label("Anything the operators should know").fill("Price is a lure.")
    await member.get_by_role("button", name="Send report").click()
    await member.wait_for_url(listing["iri"])
    await expect(member.get_by_role("status")).to_contain_text("operators will look")

    page = await operator_page(browser, web_node)
    await page.goto(web_node.url + "/admin")
    await expect(page.get_by_role("link", name=re.compile("1 open reports"))).to_be_visible()
    await screenshot(page, "admin-dashboard-desktop")
    operator_nav = page.get_by_role("navigation", name="Operator")
    await operator_nav.get_by_role("link", name="Reports").click()
    report = page.get_by_role("article").filter(has_text="Tandem bicycle")
    await expect(report).to_contain_text("Fraud or a scam")
    await expect(report).to_contain_text("Reported by @bob")
    await expect(report).to_contain_text("Price is a lure.")
    await screenshot(page, "admin-reports-desktop")
    await report.get_by_label("Note (kept with the outcome)").fill("Pending a check")
    await report.get_by_role("button", name="Hide listing").click()
    await expect(page.get_by_role("status")).to_contain_text("Hidden, and the report resolved")
    await expect(page.get_by_text("No open reports")).to_be_visible()
    status, shown = await web_node.api("GET", f"/api/v1/listings/{listing['id']}")
    assert shown["status"] == "withdrawn"
    await page.goto(web_node.url + "/admin/reports?state=resolved")
    await expect(page.get_by_role("article")).to_contain_text("hide: Pending a check")


async def test_a_report_without_a_reason_is_refused_beside_the_field(web_node: Node) -> None:
    alice = await web_node.member("alice", scope="write")
    await web_node.member("bob", scope="write")
    status, listing = await web_node.api("POST", "/api/v1/listings", alice, json=LISTING)
    async with form_client(web_node) as client:
        status, _, response = await client.get(
            "/report", params={"kind": "listing", "target": listing["iri"]})
        assert status == 303 and response.headers["Location"].startswith("/login?next=/report")
        await client.log_in("bob", TEST_PASSWORD)
        status, body, _ = await client.post("/report", {
            "kind": "listing", "target": listing["iri"], "reason": "", "comment": "x"})
        assert status == 422 and 'id="error-reason"' in body
        status, body, _ = await client.post("/report", {
            "kind": "listing", "target": listing["iri"] + "-gone", "reason": "spam"})
        assert status == 404
        status, body, _ = await client.post("/report", {
            "kind": "listing", "target": listing["iri"], "reason": "spam"})
        assert status == 303
        status, body, _ = await client.post("/report", {
            "kind": "listing", "target": listing["iri"], "reason": "spam"})
        assert status == 409 and "already reported" in body


async def test_members_get_403_on_the_operator_pages(web_node: Node) -> None:
    await web_node.member("bob", scope="write")
    async with form_client(web_node) as client:
        status, _, response = await client.get("/admin")
        assert status == 303 and response.headers["Location"] == "/login?next=/admin"
        await client.log_in("bob", TEST_PASSWORD)
        for path in ("/admin", "/admin/settings", "/admin/invites", "/admin/members",
                     "/admin/federation", "/admin/reports", "/admin/queue"):
            status, body, _ = await client.get(path)
            assert status == 403 and "only the community" in body, path
        status, _, _ = await client.post("/admin/settings", {"name": "Mine"})
        assert status == 403


async def test_the_settings_form_keeps_what_was_typed_when_it_is_refused(
    web_node: Node
) -> None:
    await web_node.member("olga")
    async with form_client(web_node) as client:
        await client.log_in("olga", TEST_PASSWORD)
        status, body, _ = await client.post("/admin/settings", {
            "name": "   ", "description": "Kept", "registration": "sometimes", "rules": "",
            "contact": ""})
        assert status == 422
        assert 'id="error-name"' in body and 'id="error-registration"' in body
        assert ">Kept</textarea>" in body


async def test_the_queue_page_lists_failed_deliveries_and_retries_them(
    browser: Browser, web_node: Node
) -> None:
    page = await operator_page(browser, web_node, PHONE)
    page.on("dialog", lambda dialog: dialog.accept())
    # A delivery to a host that refuses connections, given up on.
    async with web_node.ctx.storage.transaction() as tx:
        await tx.insert_deliveries("https://x.example/a/1", f"{web_node.url}/actor",
                                   [("http://127.0.0.1:9/inbox", "127.0.0.1:9")],
                                   "2025-01-01T00:00:00Z")
        await tx._exec("UPDATE deliveries SET state = 'failed', attempts = 9,"
                       " last_error = 'connection refused'")
    await page.goto(web_node.url + "/admin/queue?state=failed")
    await expect(page.get_by_text("Last error: connection refused")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    await screenshot(page, "admin-queue-phone")
    await page.get_by_role("button", name="Retry failed to 127.0.0.1:9").click()
    await expect(page.get_by_role("status")).to_contain_text("1 failed deliveries will be tried")
    status, queue = await web_node.api("GET", "/api/v1/admin/queue",
                                       await web_node.member("ops"))
    assert status == 200 and queue["deliveries"] == {"retrying": 1}


async def test_the_operator_blocks_purges_and_unblocks_a_host(
    browser: Browser, web_node: Node
) -> None:
    page = await operator_page(browser, web_node)
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(web_node.url + "/admin/federation")
    # A community cannot partner with itself: said beside the field.
    await page.get_by_label("Partner with the Kula community at").fill(web_node.host)
    await page.get_by_role("button", name="Add partner community").click()
    await expect(page.locator("#error-host")).to_contain_text("itself")
    await page.get_by_role("textbox", name="Host", exact=True).fill("spam.example")
    await page.get_by_label("Policy").select_option("block")
    await page.get_by_role("textbox", name="Note", exact=True).fill("Floods us with ads")
    await page.get_by_role("button", name="Save policy").click()
    await expect(page.get_by_role("status")).to_contain_text("spam.example is blocked")
    row = page.get_by_role("row").filter(has_text="spam.example")
    await expect(row).to_contain_text("Floods us with ads")
    status, info = await web_node.api("GET", "/api/v1/lookup/actor",
                                      await web_node.member("bob", scope="write"),
                                      params={"resource": "eve@spam.example"})
    assert status == 403, info
    await page.get_by_role("button", name="Purge everything held from spam.example").click()
    await expect(page.get_by_role("status")).to_contain_text("0 listings")
    await page.get_by_role("button", name="Remove the policy for spam.example").click()
    await expect(page.get_by_text("No host is blocked or allowed.")).to_be_visible()


def test_the_report_link_macro_escapes_the_target_into_the_query() -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                             extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    link = env.from_string(
        '{% from "_report.html" import report_link with context %}{{ report_link(k, t) }}'
    ).render(k="attestation", t='https://a.example/x?y=1&z="<2>"')
    assert link == (
        '<a href="/report?kind=attestation&amp;target=https%3A%2F%2Fa.example%2Fx%3Fy%3D1'
        '%26z%3D%22%3C2%3E%22" class="report-link">Report this rating</a>'
    )
