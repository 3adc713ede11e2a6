"""A Mastodon-shaped server follows a Kula member, receives her listings, and
replies to one. The payloads have the shape Mastodon sends (its inline
context, signed headers, HTML content with a mention), replayed over real
HTTP into a real node."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from node.federation.fetch import fetch_json
from node.keys import rsa_public_pem
from node.services.actors import instance_actor, local_actor_by_iri
from protocol.httpsig import (
    load_public_key_pem,
    public_key_to_pem,
    sign_request,
    verify_request,
)
from tests.federation.harness import Node, settle

MASTODON_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "memorial": "toot:memorial",
        "Emoji": "toot:Emoji",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "PropertyValue": "schema:PropertyValue",
        "schema": "http://schema.org#",
        "value": "schema:value",
    },
]
NOTE_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
    },
]
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class Mastodon:
    """Just enough of a Mastodon instance: one account, its key, an inbox."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @property
    def actor(self) -> str:
        return f"{self.base}/users/gargron"

    def actor_document(self) -> dict[str, Any]:
        return {
            "@context": MASTODON_CONTEXT,
            "id": self.actor,
            "type": "Person",
            "following": f"{self.actor}/following",
            "followers": f"{self.actor}/followers",
            "inbox": f"{self.actor}/inbox",
            "outbox": f"{self.actor}/outbox",
            "featured": f"{self.actor}/collections/featured",
            "preferredUsername": "gargron",
            "name": "Eugen",
            "summary": "<p>Founder</p>",
            "url": f"{self.base}/@gargron",
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "indexable": False,
            "published": "2016-03-16T00:00:00Z",
            "memorial": False,
            "publicKey": {
                "id": f"{self.actor}#main-key",
                "owner": self.actor,
                "publicKeyPem": public_key_to_pem(self.key.public_key()),
            },
            "tag": [],
            "attachment": [],
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
        }

    def app(self) -> web.Application:
        async def actor(request: web.Request) -> web.Response:
            return web.json_response(
                self.actor_document(), content_type="application/activity+json"
            )

        async def inbox(request: web.Request) -> web.Response:
            self.received.append((request.path, dict(request.headers), await request.read()))
            return web.Response(status=202)

        app = web.Application()
        app.router.add_get("/users/gargron", actor)
        app.router.add_post("/inbox", inbox)
        app.router.add_post("/users/gargron/inbox", inbox)
        return app

    def signed(self, url: str, activity: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(activity).encode()
        headers = sign_request(
            "POST", url, {"Content-Type": "application/activity+json"}, body,
            key_id=f"{self.actor}#main-key", private_key=self.key,
            components=["(request-target)", "host", "date", "digest", "content-type"],
        )
        return body, headers


@pytest.fixture
async def kula_and_mastodon(tmp_path: Path) -> AsyncIterator[tuple[Node, Mastodon]]:
    node = await Node("kula", tmp_path / "kula").start()
    mastodon = Mastodon()
    mastodon.server = TestServer(mastodon.app(), host="127.0.0.1")
    await mastodon.server.start_server()
    try:
        yield node, mastodon
    finally:
        await mastodon.server.close()
        await node.stop()


async def post_to(node: Node, path: str, body: bytes, headers: dict[str, str]) -> int:
    assert node.session is not None
    async with node.session.post(path, data=body, headers=headers) as response:
        return response.status


def activities_of_type(mastodon: Mastodon, kind: str) -> list[dict[str, Any]]:
    documents = [json.loads(body) for _, _, body in mastodon.received]
    return [document for document in documents if document.get("type") == kind]


@pytest.mark.spec("ActivityPub §7.5: a Mastodon user follows a Kula member")
async def test_mastodon_follows_sees_listings_and_replies(
    kula_and_mastodon: tuple[Node, Mastodon],
) -> None:
    node, mastodon = kula_and_mastodon
    alice_token = await node.member("alice")
    alice = node.actor("alice")

    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{mastodon.base}/7d3a2c1e-0b8f-4a5e-9c61-5f2b1d9e8a77",
        "type": "Follow",
        "actor": mastodon.actor,
        "object": alice,
    }
    body, headers = mastodon.signed(f"{node.url}/users/alice/inbox", follow)
    assert await post_to(node, "/users/alice/inbox", body, headers) == 202
    await settle(node)

    # The Accept reached Mastodon's inbox, signed by alice's key.
    [accept] = activities_of_type(mastodon, "Accept")
    assert accept["object"]["id"] == follow["id"]
    local = await local_actor_by_iri(node.ctx, alice)
    assert local is not None
    accept_path, accept_headers, accept_body = next(
        (p, h, b) for p, h, b in mastodon.received if json.loads(b)["type"] == "Accept"
    )

    async def alice_key(key_id: str, refresh: bool) -> Any:
        assert key_id == local.rsa_key_id
        return load_public_key_pem(rsa_public_pem(local.rsa_private_pem))

    verified = await verify_request(
        "POST", f"{mastodon.base}{accept_path}", accept_headers, accept_body,
        key_resolver=alice_key,
    )
    assert verified.algorithm == "rsa-v1_5-sha256"

    # A listing reaches Mastodon with what it shows for a Note.
    status, listing = await node.api("POST", "/api/v1/listings", alice_token, json={
        "purpose": "offer", "mode": "give", "title": "Children's bike",
        "description": "Blue, 16 inch.",
    })
    assert status == 201
    await settle(node)
    [create] = activities_of_type(mastodon, "Create")
    proposal = create["object"]
    assert proposal["type"] == "Proposal"
    assert proposal["name"] == "Children's bike"
    assert proposal["content"] == "<p>Blue, 16 inch.</p>"
    assert proposal["url"] == listing["iri"]
    assert "proof" in proposal

    # Mastodon's reply, with its HTML mention, reaches alice as plain text.
    note_iri = f"{mastodon.actor}/statuses/113/activity"
    reply = {
        "@context": NOTE_CONTEXT,
        "id": note_iri,
        "type": "Create",
        "actor": mastodon.actor,
        "published": "2026-11-23T10:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{mastodon.actor}/followers", alice],
        "object": {
            "id": f"{mastodon.actor}/statuses/113",
            "type": "Note",
            "summary": None,
            "inReplyTo": listing["iri"],
            "published": "2026-11-23T10:00:00Z",
            "url": f"{mastodon.base}/@gargron/113",
            "attributedTo": mastodon.actor,
            "to": [PUBLIC],
            "cc": [f"{mastodon.actor}/followers", alice],
            "sensitive": False,
            "atomUri": f"{mastodon.actor}/statuses/113",
            "inReplyToAtomUri": listing["iri"],
            "conversation": "tag:mastodon.example,2026-11-23:objectId=1:objectType=Conversation",
            "content": (
                f'<p><span class="h-card"><a href="{node.url}/@alice" class="u-url mention">'
                "@<span>alice</span></a></span> Is it still available?</p>"
            ),
            "contentMap": {"en": "<p>@alice Is it still available?</p>"},
            "attachment": [],
            "tag": [{"type": "Mention", "href": alice, "name": f"@alice@{node.host}"}],
        },
    }
    body, headers = mastodon.signed(f"{node.url}/inbox", reply)
    assert await post_to(node, "/inbox", body, headers) == 202
    await settle(node)
    status, replies = await node.api("GET", f"/api/v1/listings/{listing['id']}/replies")
    assert status == 200
    assert [r["content"] for r in replies["items"]] == ["@alice Is it still available?"]
    assert replies["items"][0]["author"] == mastodon.actor


@pytest.mark.spec("Kula authorized fetch")
async def test_authorized_fetch_requires_signed_gets(tmp_path: Path) -> None:
    node = await Node("kula", tmp_path / "kula", overrides={"authorized_fetch": True}).start()
    try:
        await node.member("alice")
        status, body = await node.api("GET", "/users/alice")
        assert status == 401 and body["type"].endswith("unauthorized")
        # The instance actor stays public: others need its key to check our fetches.
        status, _ = await node.api("GET", "/actor")
        assert status == 200
        other = await Node("other", tmp_path / "other").start()
        try:
            document = await fetch_json(
                other.ctx, node.actor("alice"), signer=await instance_actor(other.ctx)
            )
            assert document["id"] == node.actor("alice")
        finally:
            await other.stop()
    finally:
        await node.stop()
