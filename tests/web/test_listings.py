"""Listing pages in a real browser: the form with a photo and a rounded place,
the page with its terms and calendar, editing, withdrawing and deleting, and
the same IRI still serving JSON-LD to servers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Dialog, expect

from node.services import accounts, images
from tests.federation.harness import Node
from tests.web.browser import screenshot
from tests.web.fixtures import new_page
from tests.web.listing_support import (
    PARTNER_IRI,
    csrf_token,
    listed,
    partner_listing,
    photo,
    photo_bytes,
    session_cookie,
    signed_in,
)

LISTING_URL = re.compile(r"/listings/[0-9a-z]{26}$")


async def test_a_member_lists_a_rental_with_a_photo_and_a_rounded_place(
    browser: Browser, web_node: Node, tmp_path: Path
) -> None:
    token = await web_node.member("alice")
    page = await signed_in(browser, web_node, "alice")
    await page.goto(web_node.url + "/listings/new")
    await page.get_by_label("Offered or wanted").select_option("offer")
    await page.get_by_label("Kind of exchange").select_option("rent")
    await page.get_by_label("Title").fill("Cordless drill")
    await page.get_by_label("Description").fill("Two batteries.\n\nBring it back clean.")
    await page.get_by_label("Categories").fill("Tools, #diy")
    await page.get_by_label("Price", exact=True).fill("5.50")
    await page.get_by_label("Price currency").fill("eur")
    await page.get_by_label("Price per").select_option("P1D")
    await page.get_by_label("Deposit", exact=True).fill("50")
    await page.get_by_label("Longest period").select_option("P1W")
    await page.get_by_label("Latitude").fill("52.520008")
    await page.get_by_label("Longitude").fill("13.404954")
    await page.get_by_label("How precisely others see it").select_option("neighbourhood")
    # The form tells what others will see before anything is sent.
    await expect(page.locator("#location-preview")).to_have_text("Others will see: 52.52, 13.40")
    await page.get_by_label("Add photos").set_input_files(photo(tmp_path))
    await page.get_by_label("Describe the new photos").fill("A green drill")
    await screenshot(page, "listing-form")
    await page.get_by_role("button", name="Publish listing").click()
    await page.wait_for_url(LISTING_URL)

    await expect(page.locator(".notice")).to_have_text("Your listing is published.")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cordless drill")
    picture = page.get_by_role("img", name="A green drill")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 64
    terms = page.locator(".terms-list")
    await expect(terms).to_contain_text("5.50 EUR per day")
    await expect(terms).to_contain_text("Deposit50 EUR")
    await expect(terms).to_contain_text("Longest period1 week")
    await expect(page.locator(".calendar .day[data-date]")).not_to_have_count(0)
    await expect(page.get_by_text("around 52.52, 13.4")).to_be_visible()
    await expect(page.locator(".user-text")).to_have_text("Two batteries.\n\nBring it back clean.")
    # The author sees their own buttons, not an offer or a report link.
    await expect(page.get_by_role("link", name="Edit")).to_be_visible()
    assert await page.get_by_role("link", name="Make an offer").count() == 0
    await screenshot(page, "listing-page")

    listing_id = page.url.rsplit("/", 1)[-1]
    status, body = await web_node.api("GET", f"/api/v1/listings/{listing_id}", token)
    assert status == 200
    # Rounded before it was stored: nothing more precise exists anywhere.
    assert body["location"] == {"latitude": 52.52, "longitude": 13.4,
                                "precision": "neighbourhood"}
    assert body["categories"] == ["diy", "tools"]
    assert body["price"] == {"amount": "5.50", "currency": "EUR", "per": "P1D"}
    assert len(body["images"]) == 1


async def test_the_author_edits_a_listing_and_removes_its_photo(
    browser: Browser, web_node: Node
) -> None:
    token = await web_node.member("alice")
    member = await accounts.get_member_by_username(web_node.ctx, "alice")
    image = await images.store_image(web_node.ctx, member, photo_bytes(), "Old photo")
    listing = await listed(web_node, token, images=[image.id])
    page = await signed_in(browser, web_node, "alice")
    await page.goto(f"{web_node.url}/listings/{listing['id']}")
    await page.get_by_role("link", name="Edit").click()
    await expect(page.get_by_label("Title")).to_have_value("Cordless drill")
    await expect(page.get_by_label("Price", exact=True)).to_have_value("5.00")
    await expect(page.get_by_role("img", name="Old photo")).to_be_visible()
    await page.get_by_label("Title").fill("Cordless drill with case")
    await page.get_by_label("Price", exact=True).fill("6")
    await page.get_by_label("Remove this photo").check()
    await page.get_by_role("button", name="Save changes").click()
    await page.wait_for_url(LISTING_URL)
    await expect(page.locator(".notice")).to_have_text("Your changes are published.")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cordless drill with case")
    await expect(page.locator(".terms-list")).to_contain_text("6 EUR per day")
    assert await page.locator(".listing-images img").count() == 0
    status, body = await web_node.api("GET", f"/api/v1/listings/{listing['id']}", token)
    assert body["images"] == [] and body["deposit"] == {"amount": "50", "currency": "EUR"}
    # The removed photo is gone, not left behind.
    status, _ = await web_node.api("GET", f"/api/v1/images/{image.id}", token)
    assert status == 404


async def test_markup_in_a_title_or_description_is_shown_as_text(
    browser: Browser, web_node: Node
) -> None:
    await web_node.member("mallory")
    await web_node.member("bob")
    title = '<script>alert("title")</script>'
    description = '<img src=x onerror=alert("description")> "quoted" & more'
    page = await signed_in(browser, web_node, "mallory")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(web_node.url + "/listings/new")
    await page.get_by_label("Kind of exchange").select_option("give")
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Description").fill(description)
    await page.get_by_label("Place name (optional)").fill('"><b>Bold</b>')
    await page.get_by_label("Latitude").fill("48.1")
    await page.get_by_label("Longitude").fill("11.5")
    await page.get_by_role("button", name="Publish listing").click()
    await page.wait_for_url(LISTING_URL)
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator(".user-text")).to_have_text(description)
    await expect(page.get_by_text('"><b>Bold</b> · around')).to_be_visible()
    assert await page.locator("main script, main b, main img[src=x]").count() == 0
    # Another member meets it in search and on the edit form's values.
    viewer = await signed_in(browser, web_node, "bob")
    viewer.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await viewer.goto(web_node.url + "/search?q=script")
    await expect(viewer.get_by_role("link", name=title)).to_be_visible()
    await page.get_by_role("link", name="Edit").click()
    await expect(page.get_by_label("Title")).to_have_value(title)
    await expect(page.get_by_label("Description")).to_have_value(description)
    assert dialogs == []


async def test_bad_input_comes_back_with_messages_beside_the_fields(
    browser: Browser, web_node: Node
) -> None:
    await web_node.member("alice")
    page = await signed_in(browser, web_node, "alice")
    await page.goto(web_node.url + "/listings/new")
    await page.get_by_label("Kind of exchange").select_option("rent")
    await page.get_by_label("Title").fill("Tent for four")
    await page.get_by_label("Latitude").fill("north")
    await page.get_by_label("Longitude").fill("13.4")
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name="Publish listing").click()
    assert (await answer.value).status == 422
    await expect(page.get_by_role("alert")).to_contain_text("Please correct the following")
    latitude = page.get_by_label("Latitude")
    await expect(latitude).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#error-latitude")).to_have_text(
        "Give both latitude and longitude as numbers, or neither."
    )
    await expect(page.get_by_label("Title")).to_have_value("Tent for four")
    await expect(latitude).to_have_value("north")
    # Fixing the place leaves the rule the API also enforces: a rent needs its price.
    await latitude.fill("52.5")
    await page.get_by_role("button", name="Publish listing").click()
    await expect(page.locator("#error-price_amount")).to_have_text("a rent listing needs a price")
    await expect(page.get_by_label("Kind of exchange")).to_have_value("rent")


async def test_forms_refuse_strangers_and_other_members(web_node: Node) -> None:
    alice = await web_node.member("alice")
    await web_node.member("bob")
    listing = await listed(web_node, alice)
    assert web_node.session is not None
    async with web_node.session.get("/listings/new", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/login?next=/listings/new"
    bob = await session_cookie(web_node, "bob")
    token = await csrf_token(web_node, bob)
    cookies = {**bob, "kula_csrf": token}
    for action in ("edit", "withdraw", "delete"):
        async with web_node.session.post(
            f"/listings/{listing['id']}/{action}", cookies=cookies,
            data={"csrf_token": token, "title": "Mine now", "purpose": "offer", "mode": "give"},
        ) as response:
            assert response.status == 403, action
            assert "Only the listing" in await response.text() or action != "edit"
    async with web_node.session.get(f"/listings/{listing['id']}/edit", cookies=bob) as response:
        assert response.status == 403
    # Without the form token nothing changes either.
    alice_cookie = await session_cookie(web_node, "alice")
    async with web_node.session.post(
        f"/listings/{listing['id']}/delete", cookies=alice_cookie, data={}
    ) as response:
        assert response.status == 403
    status, body = await web_node.api("GET", f"/api/v1/listings/{listing['id']}")
    assert status == 200 and body["title"] == "Cordless drill"


async def test_the_listing_iri_serves_json_ld_to_servers_and_a_page_to_browsers(
    web_node: Node
) -> None:
    alice = await web_node.member("alice")
    listing = await listed(web_node, alice)
    assert web_node.session is not None
    for accept in ("application/activity+json",
                   'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                   "*/*", "application/activity+json, text/html;q=0.1"):
        async with web_node.session.get(listing["iri"], headers={"Accept": accept}) as response:
            assert response.status == 200, accept
            assert response.content_type == "application/activity+json", accept
            document = await response.json(content_type=None)
            assert document["type"] == "Proposal" and document["id"] == listing["iri"]
            assert "proof" in document
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    async with web_node.session.get(listing["iri"], headers={"Accept": browser_accept}) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "Accept" in response.headers["Vary"]
        assert "<h1 id=\"listing-title\">Cordless drill</h1>" in await response.text()
    status, _ = await web_node.api("DELETE", f"/api/v1/listings/{listing['id']}", alice)
    assert status == 204
    async with web_node.session.get(listing["iri"], headers={"Accept": browser_accept}) as response:
        assert response.status == 410
        assert "Its author deleted this listing." in await response.text()
    async with web_node.session.get(
        listing["iri"], headers={"Accept": "application/activity+json"}
    ) as response:
        assert response.status == 410
        assert (await response.json(content_type=None))["type"] == "Tombstone"


async def test_the_author_withdraws_then_deletes_a_listing(
    browser: Browser, web_node: Node
) -> None:
    alice = await web_node.member("alice")
    listing = await listed(web_node, alice)
    page = await signed_in(browser, web_node, "alice")
    await page.goto(f"{web_node.url}/listings/{listing['id']}")
    await page.get_by_role("button", name="Withdraw").click()
    await expect(page.locator(".notice")).to_contain_text("The listing is withdrawn")
    await expect(page.locator(".listing-head .status")).to_have_text("Withdrawn")
    assert await page.get_by_role("button", name="Withdraw").count() == 0
    asked: list[str] = []

    async def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", confirm)
    await page.get_by_role("button", name="Delete").click()
    await page.wait_for_url(web_node.url + "/")
    assert asked == ["Delete this listing for good?"]
    await expect(page.locator(".notice")).to_have_text("The listing “Cordless drill” is deleted.")
    response = await page.goto(f"{web_node.url}/listings/{listing['id']}")
    assert response is not None and response.status == 410
    await expect(page.get_by_role("alert")).to_have_text("Its author deleted this listing.")


async def test_the_calendar_marks_the_days_an_agreed_rental_holds(
    browser: Browser, web_node: Node
) -> None:
    alice = await web_node.member("alice")
    bob = await web_node.member("bob")
    listing = await listed(web_node, alice)
    first = (datetime.now(UTC) + timedelta(days=40)).replace(hour=9, minute=0, second=0,
                                                            microsecond=0)
    last = first + timedelta(days=2)
    status, offer = await web_node.api("POST", "/api/v1/exchanges", bob, json={
        "listing": listing["id"], "start": first.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": last.strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    assert status == 201, offer
    status, body = await web_node.api("POST", f"/api/v1/exchanges/{offer['id']}/accept", alice)
    assert status == 200, body
    page = await signed_in(browser, web_node, "bob")
    await page.goto(f"{web_node.url}/listings/{listing['id']}")
    # Step to the booking's month with the calendar's own links.
    today = datetime.now(UTC)
    for _ in range((first.year - today.year) * 12 + first.month - today.month):
        await page.get_by_role("link", name="Next month").click()
    await expect(page.locator("#calendar-month")).to_have_text(first.strftime("%Y-%m"))
    booked = page.locator(".calendar .day.booked")
    expected = [(first + timedelta(days=n)).date().isoformat() for n in range(3)]
    expected = [day for day in expected if day.startswith(first.strftime("%Y-%m"))]
    await expect(booked).to_have_count(len(expected))
    assert [await day.get_attribute("data-date") for day in await booked.all()] == expected
    await expect(booked.first).to_contain_text("booked")
    # Another member sees the offer and report actions.
    await expect(page.get_by_role("link", name="Make an offer")).to_have_attribute(
        "href", "/exchanges/new?listing=" + listing["iri"].replace(":", "%3A").replace("/", "%2F")
    )
    await expect(page.get_by_role("link", name="Report this listing")).to_be_visible()


async def test_a_partner_communitys_listing_has_its_own_page(
    browser: Browser, web_node: Node
) -> None:
    await partner_listing(web_node, name='Tall ladder <script>alert("x")</script>')
    page = await new_page(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(web_node.url + "/search?q=ladder")
    card = page.locator(".listing-card", has_text="Tall ladder")
    await expect(card).to_contain_text("From partner community partner.example")
    await expect(card).to_contain_text("Free loan")
    await card.get_by_role("link").first.click()
    await page.wait_for_url(re.compile(r"/remote/listing\?iri="))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        'Tall ladder <script>alert("x")</script>'
    )
    await expect(page.get_by_role("link", name="See the original")).to_have_attribute(
        "href", PARTNER_IRI
    )
    await expect(page.locator(".user-text")).to_have_text("Three metres.")
    await expect(page.locator(".calendar")).to_be_visible()
    assert dialogs == []
    # Strangers cannot make this node fetch listings it does not hold.
    response = await page.goto(
        web_node.url + "/remote/listing?iri=https%3A%2F%2Fpartner.example%2Flistings%2Fother"
    )
    assert response is not None and response.status == 404


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"mode": "swap"}, "wanted", "a swap must say what is wanted in return"),
    ({"mode": "give", "price_amount": "3", "price_currency": "EUR"}, "price_amount",
     "a give listing has no price"),
    ({"mode": "sell", "price_amount": "12,50", "price_currency": "eu"}, "price_amount",
     "three-letter code"),
    ({"mode": "sell", "price_amount": "12.50", "price_currency": "EURO"}, "price_amount",
     "Shorten this to 3 characters."),
    ({"mode": "give", "categories": "Tools & more"}, "categories", "lowercase letters"),
    ({"mode": "give", "available_from": "2030-05-10", "available_until": "2030-05-01"},
     "availability", "cannot come before"),
    ({"mode": "give", "latitude": "91", "longitude": "0"}, "latitude", "from -90 to 90"),
    ({"mode": "give", "expires_at": "2001-01-01"}, "expires_at", "from today on"),
    ({"mode": "give", "title": "  "}, "title", "Give the listing a title."),
    ({"mode": "give", "image": b"not an image"}, "images", "not a readable"),
])
async def test_each_bad_field_gets_its_own_message(
    web_node: Node, fields: dict[str, Any], field: str, message: str
) -> None:
    await web_node.member("alice")
    cookies = await session_cookie(web_node, "alice")
    token = await csrf_token(web_node, cookies)
    form = aiohttp.FormData()
    values = {"csrf_token": token, "purpose": "offer", "title": "Something", **fields}
    for name, value in values.items():
        if name == "image":
            form.add_field("images", value, filename="photo.png", content_type="image/png")
        else:
            form.add_field(name, value)
    assert web_node.session is not None
    async with web_node.session.post(
        "/listings/new", data=form, cookies={**cookies, "kula_csrf": token}
    ) as response:
        assert response.status == 422
        body = await response.text()
    shown = re.search(f'<p class="field-error" id="error-{field}">([^<]*)</p>', body)
    assert shown is not None and message in shown.group(1), body
    status, found = await web_node.api("GET", "/api/v1/search?status=any")
    assert status == 200 and found["items"] == []
