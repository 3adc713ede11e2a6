"""One attack scene: a victim node, a real attacker node, a server of crafted
documents and a canary, wired as if they were on the internet.

* The victim (``127.0.0.1:<port>``) runs with ``allow_private_network`` off, as
  in production: it refuses loopback, private and metadata addresses.
* The attacker is a real Kula node, reached as ``attacker.example``; its
  members bob, carol and dave have real keys and real actor documents.
* ``evil.example`` serves whatever a case wants: look-alike actors, redirects.
* The canary listens on loopback, a stand-in for anything internal. No case
  may ever make the victim send it a request.

State every case can rely on (set up once, never changed by a passing case):
alice (victim) follows bob and carol, and has a listing; carol's listing is
stored on the victim; alice's Follow of dave is still pending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from node.federation.http import FederationHttp
from node.keys import load_ed25519_private, load_rsa_private
from node.services.actors import LocalActor, local_actor_by_iri
from protocol.httpsig import sign_request
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle
from tests.security.network import PublicNames, Recorder, StaticDns

ATTACKER = "attacker.example"
EVIL = "evil.example"
#: A name whose DNS answer is loopback: the victim must refuse it.
REBIND = "rebind.example"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_JSON = "application/activity+json"
LISTING = {
    "purpose": "offer", "mode": "give", "title": "Cordless drill",
    "description": "Two batteries.", "categories": ["tools"],
}
#: Tables whose rows an attack must never change. Caches and queues (remote
#: actors, jobs, the inbox log itself) are checked separately or not at all.
GUARDED_TABLES = (
    "members", "tokens", "images", "listings", "listing_categories", "listing_images",
    "activities", "follows", "deliveries", "host_policies", "peers", "listing_replies",
    "exchanges", "exchange_offers", "exchange_events", "exchange_messages", "notifications",
    "attestations", "actor_moves", "attestation_replies",
)


@dataclass
class SceneNode(Node):
    """A harness node whose outbound client (and test session) resolve names
    with ``resolver``; with ``public_name`` its URL uses that name, not 127.0.0.1."""

    public_name: str | None = None
    resolver: PublicNames | None = None
    _swapped: tuple[FederationHttp, FederationHttp] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.public_name}:{self.port}" if self.public_name else super().url

    async def start(self) -> SceneNode:
        await super().start()
        assert self.resolver is not None and self.session is not None
        ctx = self.ctx
        assert ctx.http is not None
        replacement = FederationHttp(ctx.settings, resolver=self.resolver)
        await replacement.start()
        self._swapped, ctx.http = (ctx.http, replacement), replacement
        await self.session.close()
        connector = aiohttp.TCPConnector(resolver=self.resolver)
        self.session = aiohttp.ClientSession(base_url=self.url, connector=connector)
        return self

    async def stop(self) -> None:
        if self._swapped is not None and self.runner is not None:
            original, replacement = self._swapped
            await replacement.close()
            self.ctx.http = original
            self._swapped = None
        await super().stop()


def scene_dns() -> StaticDns:
    """Every name of the scene lives on loopback; any other name has no address."""
    return StaticDns({ATTACKER: ["127.0.0.1"], EVIL: ["127.0.0.1"], REBIND: ["127.0.0.1"]})


@dataclass
class Scene:
    victim: SceneNode
    attacker: SceneNode
    evil: Recorder
    canary: Recorder
    alice_token: str
    actors: dict[str, LocalActor] = field(default_factory=dict)
    iris: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def activity_iri(self, label: str) -> str:
        return f"{self.attacker.url}/activities/{self.unique(label)}"

    def sign(
        self, signer: LocalActor, activity: Any, *, path: str = "/inbox",
        key_id: str | None = None, private_key: Any = None, now: datetime | None = None,
        body: bytes | None = None, extra_headers: dict[str, str] | None = None, **options: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """A POST to the victim's ``path``, signed (cavage by default) by ``signer``;
        ``extra_headers`` are sent (and signed, where covered) as given."""
        payload = json.dumps(activity).encode() if body is None else body
        headers = sign_request(
            "POST", f"{self.victim.url}{path}",
            {"Content-Type": AP_JSON, **(extra_headers or {})}, payload,
            key_id=key_id or signer.rsa_key_id,
            private_key=private_key or load_rsa_private(signer.rsa_private_pem),
            now=now, **options,
        )
        return payload, headers

    def proof(self, author: LocalActor, document: dict[str, Any]) -> dict[str, Any]:
        key = load_ed25519_private(author.ed25519_private_pem)
        return sign_object(document, key, author.ed25519_key_id)

    async def post(
        self, body: bytes, headers: dict[str, str], path: str = "/inbox"
    ) -> tuple[int, Any]:
        session = self.victim.session
        assert session is not None
        async with session.post(path, data=body, headers=headers) as response:
            text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every guarded table of the victim."""
        rows: dict[str, list[dict[str, Any]]] = {}
        async with self.victim.ctx.storage.read() as session:
            for table in GUARDED_TABLES:
                found = await session._all(f"SELECT * FROM {table}")
                rows[table] = sorted((dict(row) for row in found), key=repr)
        return rows

    async def inbox_count(self) -> int:
        async with self.victim.ctx.storage.read() as session:
            return await session.count_inbox_activities()

    async def outcome(self, activity_iri: str) -> tuple[str | None, str | None]:
        async with self.victim.ctx.storage.read() as session:
            row = await session._one(
                "SELECT outcome, outcome_detail FROM inbox_activities WHERE iri = ?",
                (activity_iri,),
            )
        assert row is not None, f"{activity_iri} was not recorded"
        return row["outcome"], row["outcome_detail"]

    async def awaiting_retry(self, activity_iri: str) -> bool:
        """Whether the activity's inbox job was put off (RetryLater) rather than done."""
        async with self.victim.ctx.storage.read() as session:
            row = await session._one(
                "SELECT seq FROM inbox_activities WHERE iri = ?", (activity_iri,)
            )
            jobs = await session._all(
                "SELECT payload, state, last_error FROM jobs WHERE kind = 'inbox'"
            )
        assert row is not None, f"{activity_iri} was not recorded"
        return any(
            json.loads(job["payload"]) == {"seq": row["seq"]}
            and job["state"] != "done" and job["last_error"]
            for job in jobs
        )

    async def settle_victim(self) -> None:
        await settle(self.victim)


async def _local(node: Node, username: str) -> LocalActor:
    local = await local_actor_by_iri(node.ctx, node.actor(username))
    assert local is not None
    return local


async def make_scene(base: Path) -> Scene:
    victim = SceneNode(
        "victim", base / "victim", overrides={"allow_private_network": False},
        resolver=PublicNames(scene_dns(), {ATTACKER, EVIL}, allow_private=False),
    )
    attacker = SceneNode(
        "attacker", base / "attacker", public_name=ATTACKER,
        resolver=PublicNames(scene_dns(), {ATTACKER}, allow_private=True),
    )
    evil, canary = Recorder(EVIL), Recorder("canary")
    await evil.start()
    await canary.start()
    await attacker.start()
    await victim.start()
    alice = await victim.member("alice")
    scene = Scene(victim=victim, attacker=attacker, evil=evil, canary=canary, alice_token=alice)
    for name in ("bob", "carol", "dave"):
        token = await attacker.member(name)
        scene.iris[f"{name}_token"] = token
        scene.actors[name] = await _local(attacker, name)
    scene.actors["alice"] = await _local(victim, "alice")
    await _set_up_state(scene)
    return scene


async def _set_up_state(scene: Scene) -> None:
    victim, attacker = scene.victim, scene.attacker
    status, listing = await victim.api("POST", "/api/v1/listings", scene.alice_token, json=LISTING)
    assert status == 201, listing
    scene.iris["alice_listing"] = listing["iri"]
    for name in ("bob", "carol"):
        status, body = await victim.api(
            "POST", "/api/v1/follows", scene.alice_token, json={"target": attacker.actor(name)}
        )
        assert status == 201, body
    await settle(victim, attacker)
    async with victim.ctx.storage.read() as session:
        [to_carol] = await session.list_follows(
            follower_iri=victim.actor("alice"), followee_iri=attacker.actor("carol"), limit=1
        )
    scene.iris["carol_follow"] = to_carol.activity_iri
    status, listing = await attacker.api(
        "POST", "/api/v1/listings", scene.iris["carol_token"], json={**LISTING, "title": "Saw"}
    )
    assert status == 201, listing
    scene.iris["carol_listing"] = listing["iri"]
    await settle(victim, attacker)
    status, body = await victim.api(
        "POST", "/api/v1/follows", scene.alice_token, json={"target": attacker.actor("dave")}
    )
    assert status == 201 and body["state"] == "pending", body
    await settle(victim)  # the attacker node never answers: the Follow stays pending
    async with victim.ctx.storage.read() as session:
        [pending] = await session.list_follows(
            follower_iri=victim.actor("alice"), followee_iri=attacker.actor("dave"), state=None,
            limit=1,
        )
        stored = await session.get_listing_by_iri(scene.iris["carol_listing"])
    assert pending.state == "pending" and stored is not None and stored.deleted_at is None
    scene.iris["dave_follow"] = pending.activity_iri


async def close_scene(scene: Scene) -> None:
    await scene.victim.stop()
    await scene.attacker.stop()
    await scene.evil.stop()
    await scene.canary.stop()
