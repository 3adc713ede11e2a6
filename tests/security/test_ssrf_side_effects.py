"""SSRF through what the victim keeps and acts on later: inboxes it delivers
to, redirects its deliveries meet, and URLs in listings it stores.

These activities are allowed to change the victim's state (a follow is
accepted, a listing stored); what they may never do is make the victim send
a request to the canary, or hand internal URLs on to its own clients.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tests.security.attacks import activity, proposal, signed
from tests.security.forged_actors import ROGUE_KEY, served_actor
from tests.security.scene import EVIL, REBIND, Scene, close_scene, make_scene

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    built = await make_scene(Path(tmp_path_factory.mktemp("ssrf-scene")))
    try:
        yield built
    finally:
        await close_scene(built)


async def deliveries_to(scene: Scene, inbox: str) -> list[tuple[str, str]]:
    async with scene.victim.ctx.storage.read() as session:
        rows = await session._all(
            "SELECT state, last_error FROM deliveries WHERE inbox = ?", (inbox,)
        )
    return [(row["state"], row["last_error"] or "") for row in rows]


async def follow_alice_as(scene: Scene, name: str, **actor_fields: Any) -> int:
    """Follow alice as an actor served by evil.example; the inbox's answer."""
    iri = served_actor(scene, name, **actor_fields)
    follow = activity(scene, "Follow", iri, scene.victim.actor("alice"))
    follow["id"] = scene.evil.url(f"/activities/follow-{name}", EVIL)
    request = signed(scene, "bob", follow, key_id=f"{iri}#main-key", private_key=ROGUE_KEY)
    status, _ = await scene.post(request.body, request.headers)
    if status == 202:
        await scene.settle_victim()
        assert (await scene.outcome(follow["id"]))[0] == "applied: accepted"
    return status


@pytest.mark.spec("Kula THREAT_MODEL.md: SSRF through inbox URLs")
@pytest.mark.parametrize(
    "inbox",
    ["http://127.0.0.1:{canary}/inbox", "http://169.254.169.254/inbox",
     "http://[::ffff:127.0.0.1]:{canary}/inbox", "http://" + REBIND + ":{canary}/inbox",
     "http://2130706433:{canary}/inbox", "file:///etc/passwd"],
)
async def test_the_accept_is_never_delivered_to_an_internal_inbox(
    scene: Scene, inbox: str
) -> None:
    target = inbox.format(canary=scene.canary.port)
    name = f"eve{scene.unique('')}"
    status = await follow_alice_as(scene, name, inbox=target, endpoints={"sharedInbox": target})
    if target.startswith("http"):
        assert status == 202
        [(state, error)] = await deliveries_to(scene, target)
        assert state == "failed" and "refused" in error, (state, error)
    else:  # not even a valid actor: its key is unknown, the Follow refused at the door
        assert status == 401 and await deliveries_to(scene, target) == []
    assert scene.canary.hits == []


@pytest.mark.spec("Kula THREAT_MODEL.md: SSRF through delivery redirects")
async def test_a_delivery_redirected_inside_is_not_followed(scene: Scene) -> None:
    async def to_canary(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": scene.canary.url("/inbox")})

    scene.evil.routes["/redirecting-inbox"] = to_canary
    inbox = scene.evil.url("/redirecting-inbox", EVIL)
    assert await follow_alice_as(scene, "redirector", inbox=inbox) == 202
    [(state, _)] = await deliveries_to(scene, inbox)
    assert state != "delivered"
    assert "POST /redirecting-inbox" in scene.evil.hits
    assert scene.canary.hits == []


@pytest.mark.spec("Kula THREAT_MODEL.md: SSRF and traversal through attachment URLs")
async def test_attachment_urls_are_kept_out_of_reach(scene: Scene) -> None:
    bob = scene.actors["bob"]
    iri = f"{scene.attacker.url}/listings/{scene.unique('attach')}"
    internal = [
        scene.canary.url("/photo.jpg"), "http://169.254.169.254/latest/meta-data/",
        scene.evil.url("/media/../../etc/passwd", EVIL), f"http://{REBIND}/photo.jpg",
    ]
    listing = proposal(scene, "bob", iri, title="Attached")
    listing["attachment"] = [
        {"type": "Image", "url": url, "mediaType": "image/jpeg", "name": "../../x"}
        for url in internal
    ]
    listing["image"] = {"type": "Image", "url": internal[0]}
    request = signed(scene, "bob", activity(scene, "Create", "bob", scene.proof(bob, listing)))
    status, body = await scene.post(request.body, request.headers)
    assert status == 202, body
    await scene.settle_victim()
    assert (await scene.outcome(json.loads(request.body)["id"]))[0] == "applied"
    status, results = await scene.victim.api(
        "GET", "/api/v1/search?q=Attached", scene.alice_token
    )
    assert status == 200, results
    [found] = [item for item in results["items"] if item["iri"] == iri]
    assert found["images"] == []
    served = json.dumps(results)
    assert not any(url in served for url in internal), served
    assert scene.canary.hits == []
    assert [hit for hit in scene.evil.hits if "/media/" in hit] == []
