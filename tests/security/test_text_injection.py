"""HTML and script in every text a member or a remote server can write.

Kula's rule: members write plain text. It is kept as typed, served in JSON
(never as HTML: ``application/json`` with ``nosniff``), and escaped where an
ActivityPub property is HTML (``content``, ``summary``). What arrives from
other servers in an HTML property is turned into plain text by nh3 before it
is kept. Plain-text properties (``name``, an attestation's ``comment``) stay
plain text both ways.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.federation.harness import settle
from tests.security.attacks import activity, proposal, signed
from tests.security.scene import Scene, close_scene, make_scene

pytestmark = pytest.mark.asyncio(loop_scope="module")
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp; <b>bold</b>'
AP_ACCEPT = {"Accept": "application/activity+json"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    built = await make_scene(Path(tmp_path_factory.mktemp("text-scene")))
    try:
        yield built
    finally:
        await close_scene(built)


async def get(scene: Scene, path: str, headers: dict[str, str]) -> tuple[Any, str, str]:
    """The parsed body, its media type and its X-Content-Type-Options."""
    session = scene.victim.session
    assert session is not None
    async with session.get(path, headers=headers) as response:
        assert response.status == 200, await response.text()
        body = json.loads(await response.text())
        return body, response.content_type, response.headers.get("X-Content-Type-Options", "")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def inert_html(fragment: str) -> bool:
    """Whether an HTML property holds nothing but paragraphs and line breaks,
    with no attributes: what Kula's escaping of plain text produces."""
    parser = _Elements()
    parser.feed(fragment)
    parser.close()
    return all(tag in ("p", "br") and not attrs for tag, attrs in parser.found)


def assert_json(media_type: str, nosniff: str) -> None:
    assert media_type in ("application/json", "application/activity+json"), media_type
    assert nosniff == "nosniff"


@pytest.mark.spec("Kula THREAT_MODEL.md: HTML in member profiles")
async def test_profile_text_is_kept_as_text_and_escaped_as_html(scene: Scene) -> None:
    token = scene.alice_token
    status, body = await scene.victim.api(
        "PATCH", "/api/v1/me", token, json={"display_name": SCRIPT[:100], "summary": SCRIPT}
    )
    assert status == 200, body
    me, media_type, nosniff = await get(scene, "/api/v1/me", {"Authorization": f"Bearer {token}"})
    assert_json(media_type, nosniff)
    assert me["summary"] == SCRIPT and me["display_name"] == SCRIPT[:100]
    actor, media_type, nosniff = await get(scene, "/users/alice", AP_ACCEPT)
    assert_json(media_type, nosniff)
    assert actor["name"] == SCRIPT[:100]  # AS2 name is plain text
    assert inert_html(actor["summary"]), actor["summary"]
    assert "&lt;script&gt;" in actor["summary"]


@pytest.mark.spec("Kula THREAT_MODEL.md: HTML in listings")
async def test_listing_text_is_kept_as_text_and_escaped_as_html(scene: Scene) -> None:
    status, listing = await scene.victim.api(
        "POST", "/api/v1/listings", scene.alice_token,
        json={"purpose": "offer", "mode": "give", "title": SCRIPT, "description": SCRIPT},
    )
    assert status == 201, listing
    assert listing["title"] == SCRIPT and listing["description"] == SCRIPT
    path = listing["iri"].removeprefix(scene.victim.url)
    document, media_type, nosniff = await get(scene, path, AP_ACCEPT)
    assert_json(media_type, nosniff)
    assert document["name"] == SCRIPT
    assert inert_html(document["content"]), document["content"]


@pytest.mark.spec("Kula THREAT_MODEL.md: HTML from other servers")
async def test_remote_html_is_kept_as_plain_text(scene: Scene) -> None:
    bob = scene.actors["bob"]
    iri = f"{scene.attacker.url}/listings/{scene.unique('html')}"
    listing = proposal(scene, "bob", iri, title="Lamp <img src=x onerror=alert(1)>")
    listing["content"] = "<p>Bright <script>alert(1)</script><a href='javascript:x'>lamp</a></p>"
    request = signed(scene, "bob", activity(scene, "Create", "bob", scene.proof(bob, listing)))
    status, body = await scene.post(request.body, request.headers)
    assert status == 202, body
    await scene.settle_victim()
    results, media_type, nosniff = await get(
        scene, "/api/v1/search?q=Bright", {"Authorization": f"Bearer {scene.alice_token}"}
    )
    assert_json(media_type, nosniff)
    [found] = [item for item in results["items"] if item["iri"] == iri]
    assert found["description"] == "Bright lamp"
    assert found["title"] == "Lamp <img src=x onerror=alert(1)>"  # plain text, shown as such


async def _exchange_events(scene: Scene) -> list[dict[str, Any]]:
    status, body = await scene.victim.api("GET", "/api/v1/exchanges", scene.alice_token)
    assert status == 200, body
    [exchange] = body["items"]
    return exchange["events"]


@pytest.mark.spec("Kula THREAT_MODEL.md: HTML in exchange messages and reasons")
async def test_exchange_messages_and_reasons_cross_as_escaped_html(scene: Scene) -> None:
    token, listing = scene.iris["bob_token"], scene.iris["alice_listing"]
    assert (await scene.attacker.api(
        "GET", "/api/v1/lookup/listing", token, params={"iri": listing}
    ))[0] == 200
    status, body = await scene.attacker.api(
        "POST", "/api/v1/exchanges", token, json={"listing": listing, "message": SCRIPT}
    )
    assert status == 201, body
    await settle(scene.attacker, scene.victim)
    async with scene.attacker.ctx.storage.read() as session:
        rows = await session._all("SELECT document FROM activities")
    [offer] = [doc for row in rows if (doc := _json(row["document"]))["type"] == "Offer"]
    assert inert_html(offer["content"]), offer["content"]
    [offered] = await _exchange_events(scene)
    assert offered["content"] == SCRIPT  # the typed text, exactly

    # A server that sends raw HTML in a reason: only its text is kept.
    async with scene.victim.ctx.storage.read() as session:
        [row] = await session._all("SELECT pending_offer_iri FROM exchanges")
    undo = activity(scene, "Undo", "bob", row["pending_offer_iri"],
                    content="<p>Changed my mind<script>alert(1)</script></p>")
    request = signed(scene, "bob", undo)
    assert (await scene.post(request.body, request.headers))[0] == 202
    await scene.settle_victim()
    assert (await scene.outcome(undo["id"]))[0] == "applied: undo"
    withdrawn = (await _exchange_events(scene))[-1]
    assert withdrawn["content"] == "Changed my mind"


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)
