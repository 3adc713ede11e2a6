"""Headless Chromium for page tests: Debian's browser driven by Playwright.

``make test`` installs Debian's ``chromium``; Playwright never downloads a
browser of its own. ``CHROMIUM_BIN`` names another binary.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Page

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
#: Screenshots of key pages land here (kept by CI as test artifacts).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Without these, Chromium reaches for Google's services, which this closed
# network refuses at every start.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def launch_options() -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"Chromium is not installed at {CHROMIUM}: run `make test`, which installs "
            "Debian's chromium package, or set CHROMIUM_BIN"
        )
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the login form, as a member would."""
    await page.goto(f"{base_url}/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
