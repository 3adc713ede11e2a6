"""Browser fixtures for the page tests (a plugin of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.federation.harness import Node
from tests.web.browser import DESKTOP, launch_options


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(**launch_options())
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Browser, viewport: dict[str, int] = DESKTOP) -> Page:
    """A fresh browser profile (its own cookies) at ``viewport``."""
    context: BrowserContext = await browser.new_context(viewport=viewport, locale="en-GB")
    return await context.new_page()


@pytest.fixture
async def page(browser: Browser) -> Page:
    return await new_page(browser)


@pytest.fixture
async def web_node(tmp_path: Path) -> AsyncIterator[Node]:
    """One real node serving pages on a loopback port (workers stepped by the test)."""
    node = await Node("web", tmp_path / "web", overrides={"registration": "open"}).start()
    try:
        yield node
    finally:
        await node.stop()
