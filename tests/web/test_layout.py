"""The site layout in a real browser: landmarks, CSP-clean assets, CSRF."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from tests.federation.harness import Node
from tests.web.browser import PHONE, screenshot
from tests.web.fixtures import new_page


async def test_front_page_has_landmarks_and_loads_only_its_own_assets(
    page: Page, web_node: Node
) -> None:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if message.type == "error" else None)
    response = await page.goto(web_node.url + "/")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    assert await page.get_by_role("banner").count() == 1
    assert await page.get_by_role("main").count() == 1
    assert await page.get_by_role("navigation", name="Main").count() == 1
    assert await page.get_by_role("search").count() == 1
    # The stylesheet applied: the header carries the accent colour.
    colour = await page.eval_on_selector(
        "header", "element => getComputedStyle(element).backgroundColor"
    )
    assert colour == "rgb(11, 110, 79)"
    assert violations == []


async def test_front_page_fits_a_phone_without_horizontal_scrolling(
    browser: Browser, web_node: Node
) -> None:
    page = await new_page(browser, PHONE)
    await page.goto(web_node.url + "/")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    await screenshot(page, "front-page-phone")


async def test_a_form_post_without_the_csrf_token_is_refused(web_node: Node) -> None:
    assert web_node.session is not None
    async with web_node.session.post("/logout", data={"anything": "1"}) as response:
        assert response.status == 403
        assert "text/html" in response.headers["Content-Type"]
        assert "Form expired" in await response.text()


async def test_a_form_post_from_another_origin_is_refused(web_node: Node) -> None:
    assert web_node.session is not None
    async with web_node.session.get("/") as response:
        token = response.cookies["kula_csrf"].value
    async with web_node.session.post(
        "/logout",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    ) as response:
        assert response.status == 403
