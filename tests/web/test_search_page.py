"""Browsing and search pages: filters that work without JavaScript, cards with
origin and reputation, partner listings, pages of results, phone widths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from node.services import accounts, images, reputation
from tests.federation.harness import Node
from tests.web.browser import PHONE, screenshot
from tests.web.fixtures import new_page
from tests.web.listing_support import listed, partner_listing, photo_bytes, signed_in

BERLIN = {"latitude": 52.52, "longitude": 13.40, "precision": "street"}
MUNICH = {"latitude": 48.14, "longitude": 11.58, "precision": "street"}


async def four_listings(node: Node) -> dict[str, dict[str, Any]]:
    """One that matches every filter of the search below, and three that each miss one."""
    alice = await node.member("alice")
    bob = await node.member("bob")
    member = await accounts.get_member_by_username(node.ctx, "alice")
    image = await images.store_image(node.ctx, member, photo_bytes("red"), "A red drill")
    return {
        "match": await listed(node, alice, location=BERLIN, images=[image.id]),
        "sale": await listed(node, alice, title="Drill press", mode="sell", location=BERLIN,
                             price={"amount": "300", "currency": "EUR"}, deposit=None),
        "far": await listed(node, bob, title="Hammer drill", location=MUNICH,
                            price={"amount": "8", "currency": "EUR", "per": "P1D"}),
        "other": await listed(node, bob, title="Party tent", location=BERLIN),
    }


def titles(page_html: str) -> list[str]:
    return re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', page_html)


async def test_search_with_filters_finds_the_matching_listing_only(
    browser: Browser, web_node: Node
) -> None:
    await four_listings(web_node)
    page = await new_page(browser)
    await page.context.grant_permissions(["geolocation"], origin=web_node.url)
    await page.context.set_geolocation({"latitude": 52.5163, "longitude": 13.3777})
    await page.goto(web_node.url + "/")
    await page.get_by_role("searchbox", name="Search listings").fill("drill")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url(re.compile(r"/search\?q=drill$"))
    results = page.locator(".listing-card h3")
    await expect(results).to_have_count(3)
    assert sorted(await results.all_inner_texts()) == [
        "Cordless drill", "Drill press", "Hammer drill"
    ]
    # The filters fold away after a plain word search, leaving the results in view.
    await expect(page.get_by_label("Kind of exchange")).to_be_hidden()
    await page.get_by_text("Filters: kind, price, place, communities").click()
    await page.get_by_label("Kind of exchange").select_option("rent")
    await page.get_by_label("Highest price").fill("10")
    await page.get_by_role("button", name="Use my location").click()
    await expect(page.get_by_label("Latitude")).to_have_value("52.51630")
    await expect(page.get_by_label("Longitude")).to_have_value("13.37770")
    await page.get_by_label("Within (km)").fill("25")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url(re.compile(r"radius_km=25"))
    await expect(results).to_have_text(["Cordless drill"])
    card = page.locator(".listing-card")
    await expect(card).to_contain_text("5.00 EUR per day, deposit 50 EUR")
    await expect(card).to_contain_text("From Community web")
    await expect(card).to_contain_text("No ratings yet")
    await expect(card).to_contain_text("km away")
    thumbnail = card.get_by_role("img", name="A red drill")
    await expect(thumbnail).to_be_visible()
    assert await thumbnail.evaluate("img => img.complete && img.naturalWidth") > 0
    # The filters survive the round trip, so the member can refine them.
    await expect(page.get_by_label("Kind of exchange")).to_have_value("rent")
    await expect(page.get_by_label("Highest price")).to_have_value("10")
    await screenshot(page, "search-results")


async def test_bad_filters_come_back_with_messages_beside_them(web_node: Node) -> None:
    assert web_node.session is not None
    for query, field, message in (
        ("lat=north&lon=13", "lat", "must be a number"),
        ("radius_km=5", "radius_km", "needs lat and lon"),
        ("scope=everywhere", "scope", "choose a scope"),
        ("min_price=-3", "min_price", "must be between"),
    ):
        async with web_node.session.get("/search?" + query) as response:
            assert response.status == 422, query
            body = await response.text()
        assert f'id="field-{field}"' in body
        assert re.search(f'<p class="field-error" id="error-{field}">[^<]*{message}', body), query
        assert 'aria-invalid="true"' in body


async def test_results_come_in_pages(web_node: Node) -> None:
    alice = await web_node.member("alice")
    for number in range(23):
        await listed(web_node, alice, title=f"Spare chair {number:02d}")
    assert web_node.session is not None
    async with web_node.session.get("/search?q=chair&sort=recent") as response:
        first = await response.text()
    next_link = re.search(r'<a class="button" href="([^"]+)" rel="next">Next page</a>', first)
    assert next_link is not None
    async with web_node.session.get(next_link.group(1).replace("&amp;", "&")) as response:
        second = await response.text()
    assert len(titles(first)) == 20 and len(titles(second)) == 3
    assert sorted(titles(first) + titles(second)) == [f"Spare chair {n:02d}" for n in range(23)]
    assert 'rel="next"' not in second and "First page" in second


async def test_partner_listings_join_the_results_unless_the_member_asks_for_local_only(
    web_node: Node
) -> None:
    alice = await web_node.member("alice")
    await listed(web_node, alice, title="Step ladder", mode="lend", price=None,
                 deposit=None)
    await partner_listing(web_node)
    assert web_node.session is not None
    async with web_node.session.get("/search?q=ladder") as response:
        everywhere = await response.text()
    async with web_node.session.get("/search?q=ladder&scope=local") as response:
        local = await response.text()
    async with web_node.session.get("/") as response:
        front = await response.text()
    assert sorted(titles(everywhere)) == ["Step ladder", "Tall ladder"]
    assert "From partner community partner.example (partner.example)" in everywhere
    assert titles(local) == ["Step ladder"]
    # The front page shows this community's own recent listings.
    assert titles(front) == ["Step ladder"]


async def test_cards_show_each_authors_reputation_from_one_computation(
    web_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await web_node.member("alice")
    bob = await web_node.member("bob")
    sale = await listed(web_node, alice, title="Sewing machine", mode="sell", deposit=None,
                        price={"amount": "30", "currency": "EUR"})
    await listed(web_node, alice, title="Sewing table")
    await listed(web_node, bob, title="Sewing kit", mode="give", price=None, deposit=None)
    status, deal = await web_node.api("POST", "/api/v1/exchanges", bob,
                                      json={"listing": sale["id"]})
    assert status == 201, deal
    for token, action in ((alice, "accept"), (alice, "handover"), (alice, "complete"),
                          (bob, "complete")):
        status, body = await web_node.api(
            "POST", f"/api/v1/exchanges/{deal['id']}/{action}", token
        )
        assert status == 200, (action, body)
    status, body = await web_node.api("POST", f"/api/v1/exchanges/{deal['id']}/attestation",
                                      bob, json={"rating": 5})
    assert status == 201, body
    computations: list[int] = []
    original = reputation.compute_all

    def counted(*args: Any, **kwargs: Any) -> Any:
        computations.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(reputation, "compute_all", counted)
    assert web_node.session is not None
    async with web_node.session.get("/search?q=sewing&status=any") as response:
        html = await response.text()
    assert len(computations) == 1
    expected = await reputation.reputation_of(web_node.ctx, web_node.actor("alice"))
    assert expected.score is not None and expected.count == 1
    shown = (f"Reputation {expected.score:.1f} (range {expected.low:.1f}–{expected.high:.1f})"
             " · 1 rating")
    assert html.count(shown) == 2, html
    assert html.count("No ratings yet") == 1
    both = await reputation.reputations_of(
        web_node.ctx, [web_node.actor("alice"), web_node.actor("bob")]
    )
    assert both[web_node.actor("alice")] == expected
    assert both[web_node.actor("bob")] == await reputation.reputation_of(
        web_node.ctx, web_node.actor("bob")
    )


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], page.url


async def test_search_listing_and_form_fit_a_phone(browser: Browser, web_node: Node) -> None:
    listings = await four_listings(web_node)
    page = await signed_in(browser, web_node, "alice", PHONE)
    await page.goto(web_node.url + "/search?q=drill&lat=52.52&lon=13.4&radius_km=1000")
    await expect(page.locator(".listing-card")).to_have_count(3)
    await no_horizontal_scroll(page)
    await screenshot(page, "search-results-phone")
    await page.goto(f"{web_node.url}/listings/{listings['match']['id']}")
    await expect(page.locator(".calendar")).to_be_visible()
    await no_horizontal_scroll(page)
    await screenshot(page, "listing-page-phone")
    await page.goto(f"{web_node.url}/listings/{listings['match']['id']}/edit")
    await expect(page.get_by_label("Title")).to_have_value("Cordless drill")
    await no_horizontal_scroll(page)
    await screenshot(page, "listing-form-phone")
