"""Helpers for the account, profile and notification page tests: a cookie-keeping
HTTP client that posts forms like a browser, and API set-ups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from yarl import URL

from tests.federation.harness import Node

LISTING = {
    "purpose": "offer",
    "mode": "sell",
    "title": "Tandem bicycle",
    "description": "Red, two seats.",
    "categories": ["bikes"],
    "price": {"amount": "80.00", "currency": "EUR"},
}


class FormClient:
    """Posts forms with the CSRF token, keeping cookies as a browser would
    (aiohttp's default jar ignores cookies of IP-address hosts)."""

    def __init__(self, node: Node, session: aiohttp.ClientSession) -> None:
        self.node = node
        self.session = session

    def cookie(self, name: str) -> str | None:
        found = self.session.cookie_jar.filter_cookies(URL(self.node.url)).get(name)
        return found.value if found else None

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        kwargs.setdefault("allow_redirects", False)
        async with self.session.get(path, **kwargs) as response:
            return response.status, await response.text(), response

    async def post(
        self, path: str, data: dict[str, str], *, csrf: bool = True
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        if csrf and self.cookie("kula_csrf") is None:
            await self.get("/login")
        form = {**data, "csrf_token": self.cookie("kula_csrf") or ""} if csrf else data
        async with self.session.post(path, data=form, allow_redirects=False) as response:
            return response.status, await response.text(), response

    async def log_in(self, username: str, password: str) -> None:
        status, body, _ = await self.post(
            "/login", {"username": username, "password": password}
        )
        assert status == 303, body


@asynccontextmanager
async def form_client(node: Node) -> AsyncIterator[FormClient]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=node.url, cookie_jar=jar) as session:
        yield FormClient(node, session)


async def completed_exchange(
    node: Node, owner: str, taker: str, listing: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``taker`` gets ``owner``'s new listing through a whole exchange; returns
    the listing and the exchange."""
    status, created = await node.api("POST", "/api/v1/listings", owner, json=listing or LISTING)
    assert status == 201, created
    status, deal = await node.api(
        "POST", "/api/v1/exchanges", taker, json={"listing": created["id"]}
    )
    assert status == 201, deal
    one = f"/api/v1/exchanges/{deal['id']}"
    for who, action in ((owner, "accept"), (owner, "handover"), (owner, "complete"),
                        (taker, "complete")):
        status, body = await node.api("POST", f"{one}/{action}", who)
        assert status == 200, (action, body)
    return created, deal


async def attest(node: Node, who: str, exchange_id: str, rating: int, comment: str) -> None:
    status, body = await node.api(
        "POST", f"/api/v1/exchanges/{exchange_id}/attestation", who,
        json={"rating": rating, "comment": comment},
    )
    assert status == 201, body
