"""Helpers for the listing and search page tests: signed-in browsers, photos,
listings made through the API, and a partner community's listing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.async_api import Browser, Page

from node.federation.remote_listings import store_remote_listing
from node.services import accounts, tokens
from node.storage.records import Listing
from tests.federation.harness import Node
from tests.web.browser import DESKTOP
from tests.web.fixtures import new_page

RENTAL = {
    "purpose": "offer", "mode": "rent", "title": "Cordless drill",
    "description": "18 V, two batteries.", "categories": ["tools"],
    "price": {"amount": "5.00", "currency": "EUR", "per": "P1D"},
    "deposit": {"amount": "50", "currency": "EUR"},
    "location": {"latitude": 52.52, "longitude": 13.40, "precision": "neighbourhood"},
}
PARTNER_IRI = "https://partner.example/listings/ladder-1"


async def signed_in(browser: Browser, node: Node, username: str,
                    viewport: dict[str, int] = DESKTOP) -> Page:
    """A browser with a session of ``username`` (as the login form would set it),
    so these tests do not depend on the login page."""
    member = await accounts.get_member_by_username(node.ctx, username)
    issued = await tokens.issue_token(node.ctx, member, "web session", "write", kind="session")
    page = await new_page(browser, viewport)
    await page.context.add_cookies(
        [{"name": "kula_session", "value": issued.secret, "url": node.url}]
    )
    return page


async def session_cookie(node: Node, username: str) -> dict[str, str]:
    member = await accounts.get_member_by_username(node.ctx, username)
    issued = await tokens.issue_token(node.ctx, member, "web session", "write", kind="session")
    return {"kula_session": issued.secret}


def photo(tmp_path: Path, name: str = "drill.png", colour: str = "green") -> Path:
    path = tmp_path / name
    Image.new("RGB", (64, 48), colour).save(path)
    return path


def photo_bytes(colour: str = "blue") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def listed(node: Node, token: str, **overrides: Any) -> dict[str, Any]:
    """A rental made through the API; an override of None leaves that term out."""
    terms = {key: value for key, value in {**RENTAL, **overrides}.items() if value is not None}
    status, body = await node.api("POST", "/api/v1/listings", token, json=terms)
    assert status == 201, body
    return body


async def csrf_token(node: Node, cookies: dict[str, str]) -> str:
    """A form token for a plain HTTP client, as a page would embed it."""
    assert node.session is not None
    async with node.session.get("/search", cookies=cookies) as response:
        return response.cookies["kula_csrf"].value


async def partner_listing(node: Node, **overrides: Any) -> Listing:
    """A partner community's listing as this node keeps it after verifying it."""
    proposal = {
        "id": PARTNER_IRI, "type": "Proposal", "name": "Tall ladder",
        "content": "<p>Three metres.</p>", "purpose": "offer", "exchangeMode": "lend",
        "attributedTo": "https://partner.example/users/carol",
        "url": "https://partner.example/listings/ladder-1",
        "published": "2024-01-01T00:00:00Z", "listingStatus": "available",
        **overrides,
    }
    async with node.ctx.storage.transaction() as tx:
        return await store_remote_listing(tx, proposal)
