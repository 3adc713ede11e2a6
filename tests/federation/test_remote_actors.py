"""Remote actors and keys: fetched from a real server on loopback, checked, cached, rotated."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import make_settings
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from test_fetch import AP, Origin, ServerFactory

from node.bootstrap import ensure_node_actors
from node.errors import NotFound
from node.federation.fetch import FetchError
from node.federation.http import FederationHttp
from node.federation.remote_actors import RemoteActors
from node.keys import load_ed25519_private, rsa_public_pem
from node.services import accounts
from node.services.actors import instance_actor, local_actor_by_iri
from node.services.context import NodeContext
from node.storage import create_storage
from node.timeutil import parse_text, to_text, utc_now
from protocol.builders.actor import actor, multikey, rsa_public_key
from protocol.httpsig import (
    VerificationKey,
    generate_ed25519_key,
    generate_rsa_key,
    public_key_to_pem,
    sign_request,
    verify_request,
)
from protocol.multikey import multikey_encode

ISSUE = "Kula federation issue: keys fetched and cached, refetched once on failure"
FEP_521A = "FEP-521a: assertionMethod Multikey"


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[NodeContext]:
    settings = make_settings(tmp_path / "node")
    storage = create_storage(settings)
    await storage.open()
    ctx = NodeContext(settings=settings, storage=storage)
    await ensure_node_actors(ctx)
    async with FederationHttp(settings) as http:
        ctx.http = http
        yield ctx
    await storage.close()


class Remote(Origin):
    """A remote server with one actor, ``bob``, whose keys and answers the test controls."""

    def __init__(self, aiohttp_server: ServerFactory) -> None:
        super().__init__(aiohttp_server)
        self.rsa_key = generate_rsa_key()
        self.ed_key = generate_ed25519_key()
        self.status = 200
        self.overrides: dict[str, Any] = {}
        #: Run on every request for the actor (a signature check, say).
        self.on_request: Callable[[web.Request], Awaitable[None]] | None = None
        self.route("/users/bob", self._actor)

    @property
    def bob(self) -> str:
        return self.url("/users/bob")

    def document(self) -> dict[str, Any]:
        bob = self.bob
        document = actor(
            type="Person", id=bob, preferred_username="bob",
            inbox=f"{bob}/inbox", outbox=f"{bob}/outbox",
            followers=f"{bob}/followers", following=f"{bob}/following",
            shared_inbox=self.url("/inbox"),
            public_key=rsa_public_key(
                id=f"{bob}#main-key", owner=bob, public_key_pem=public_key_to_pem(self.rsa_key)
            ),
            assertion_method=[multikey(
                id=f"{bob}#ed25519-key", controller=bob,
                public_key_multibase=multikey_encode(self.ed_key.public_key()),
            )],
        )
        for name, value in self.overrides.items():
            if value is None:
                document.pop(name, None)
            else:
                document[name] = value
        return document

    async def _actor(self, request: web.Request) -> web.Response:
        if self.on_request is not None:
            await self.on_request(request)
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response(self.document(), content_type=AP)


@pytest.fixture
def remote(aiohttp_server: ServerFactory) -> Remote:
    return Remote(aiohttp_server)


def _rsa_pem(key: rsa.RSAPrivateKey) -> str:
    return public_key_to_pem(key)


@pytest.mark.spec("ActivityPub §3.2; Kula federation issue: remote actors")
async def test_actor_is_fetched_signed_and_stored(remote: Remote, node: NodeContext) -> None:
    signed_by: list[str] = []
    actors = RemoteActors(node)

    async def check_signature(request: web.Request) -> None:
        # The node's own resolver answers for its instance key without HTTP.
        result = await verify_request(
            "GET", str(request.url), request.headers, None, key_resolver=actors.key_resolver
        )
        signed_by.append(result.key_id)

    remote.on_request = check_signature
    await remote.serve()
    record = await actors.get(remote.bob)
    instance = await instance_actor(node)
    assert signed_by == [instance.rsa_key_id]
    assert record.iri == remote.bob
    assert record.host == f"127.0.0.1:{remote.server.port}"
    assert (record.type, record.preferred_username) == ("Person", "bob")
    assert record.inbox == f"{remote.bob}/inbox"
    assert record.shared_inbox == remote.url("/inbox")
    assert record.followers == f"{remote.bob}/followers"
    assert record.rsa_public_pem == _rsa_pem(remote.rsa_key)
    assert record.rsa_key_id == f"{remote.bob}#main-key"
    lifetime = parse_text(record.expires_at) - parse_text(record.fetched_at)
    assert lifetime == timedelta(days=1)
    async with node.storage.read() as session:
        assert await session.get_remote_actor(remote.bob) == record


@pytest.mark.spec(ISSUE)
async def test_cached_until_expiry_or_refresh(remote: Remote, node: NodeContext) -> None:
    await remote.serve()
    actors = RemoteActors(node)
    first = await actors.get(remote.bob)
    assert await actors.get(remote.bob) == first
    assert remote.hits["/users/bob"] == 1
    await actors.get(remote.bob, refresh=True)
    assert remote.hits["/users/bob"] == 2
    expired = dataclasses.replace(first, expires_at=to_text(utc_now() - timedelta(seconds=1)))
    async with node.storage.transaction() as session:
        await session.upsert_remote_actor(expired)
    await actors.get(remote.bob)
    assert remote.hits["/users/bob"] == 3


@pytest.mark.spec(ISSUE)
async def test_stale_copy_served_while_origin_is_down_but_not_when_gone(
    remote: Remote, node: NodeContext
) -> None:
    await remote.serve()
    actors = RemoteActors(node)
    first = await actors.get(remote.bob)
    expired = dataclasses.replace(first, expires_at=to_text(utc_now() - timedelta(seconds=1)))
    async with node.storage.transaction() as session:
        await session.upsert_remote_actor(expired)
    remote.status = 503
    assert await actors.get(remote.bob) == expired
    with pytest.raises(FetchError):
        await actors.get(remote.bob, refresh=True)
    remote.status = 410
    with pytest.raises(FetchError) as caught:
        await actors.get(remote.bob)
    assert caught.value.is_missing and caught.value.status == 410


@pytest.mark.spec("ActivityPub §3.1; Kula federation issue: a document of another origin")
@pytest.mark.parametrize(
    "claimed", ["https://victim.example/users/bob", "http://127.0.0.2:{port}/users/bob"]
)
async def test_document_claiming_another_origin_is_refused(
    remote: Remote, node: NodeContext, claimed: str
) -> None:
    await remote.serve()
    remote.overrides = {"id": claimed.format(port=remote.server.port)}
    with pytest.raises(FetchError) as caught:
        await RemoteActors(node).get(remote.bob)
    assert caught.value.reason == "origin-mismatch"
    async with node.storage.read() as session:
        assert await session.get_remote_actor(remote.overrides["id"]) is None
        assert await session.get_remote_actor(remote.bob) is None


@pytest.mark.spec("Kula schemas: actor.schema.json")
@pytest.mark.parametrize(
    "overrides",
    [{"inbox": None}, {"type": "Note"}, {"inbox": "ftp://x.example/inbox"}, {"id": 5}],
)
async def test_invalid_actor_document_is_refused(
    remote: Remote, node: NodeContext, overrides: dict[str, Any]
) -> None:
    await remote.serve()
    remote.overrides = overrides
    with pytest.raises(FetchError) as caught:
        await RemoteActors(node).get(remote.bob)
    assert (caught.value.reason, caught.value.status) == ("invalid-document", 502)


@pytest.mark.spec("Mastodon actor shape; protocol/normalize.py")
@pytest.mark.parametrize(
    "context",
    [
        ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
         {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
          "toot": "http://joinmastodon.org/ns#",
          "featured": {"@id": "toot:featured", "@type": "@id"},
          "discoverable": "toot:discoverable"}],
        ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
         "https://unbundled.example/ns/v1"],
    ],
)
async def test_actor_documents_of_other_servers_are_read(
    remote: Remote, node: NodeContext, context: list[Any]
) -> None:
    await remote.serve()
    remote.overrides = {"@context": context, "discoverable": True}
    record = await RemoteActors(node).get(remote.bob)
    assert record.inbox == f"{remote.bob}/inbox"
    assert record.rsa_public_pem == _rsa_pem(remote.rsa_key)


@pytest.mark.spec(ISSUE)
async def test_key_rotation_is_picked_up_on_refresh(remote: Remote, node: NodeContext) -> None:
    await remote.serve()
    actors = RemoteActors(node)
    key_id = f"{remote.bob}#main-key"
    old_key = remote.rsa_key
    assert _pem_of(await actors.key_resolver(key_id, False)) == _rsa_pem(old_key)
    remote.rsa_key = generate_rsa_key()
    # Cached: the old key until someone asks for a refresh.
    assert _pem_of(await actors.key_resolver(key_id, False)) == _rsa_pem(old_key)
    assert remote.hits["/users/bob"] == 1
    assert _pem_of(await actors.key_resolver(key_id, True)) == _rsa_pem(remote.rsa_key)
    assert _pem_of(await actors.key_resolver(key_id, False)) == _rsa_pem(remote.rsa_key)


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3; " + ISSUE)
async def test_signature_by_a_rotated_key_verifies_after_one_refetch(
    remote: Remote, node: NodeContext
) -> None:
    await remote.serve()
    actors = RemoteActors(node)
    key_id = f"{remote.bob}#main-key"
    await actors.by_key_id(key_id)  # cache the first key
    remote.rsa_key = generate_rsa_key()
    url = "http://127.0.0.1:8080/inbox"
    headers = sign_request("POST", url, {}, b"{}", key_id=key_id, private_key=remote.rsa_key)
    result = await verify_request("POST", url, headers, b"{}", key_resolver=actors.key_resolver)
    assert result.key_id == key_id
    assert remote.hits["/users/bob"] == 2


@pytest.mark.spec(FEP_521A + "; RFC 9421 §3.3.6")
async def test_ed25519_key_from_assertion_method(remote: Remote, node: NodeContext) -> None:
    await remote.serve()
    actors = RemoteActors(node)
    key_id = f"{remote.bob}#ed25519-key"
    resolved = await actors.key_resolver(key_id, False)
    assert isinstance(resolved, VerificationKey) and resolved.algorithm == "ed25519"
    assert isinstance(resolved.key, ed25519.Ed25519PublicKey)
    url = "http://127.0.0.1:8080/inbox"
    headers = sign_request(
        "POST", url, {}, b"{}", key_id=key_id, private_key=remote.ed_key, scheme="rfc9421"
    )
    result = await verify_request("POST", url, headers, b"{}", key_resolver=actors.key_resolver)
    assert (result.key_id, result.algorithm) == (key_id, "ed25519")


@pytest.mark.spec("security v1 publicKey owner; " + ISSUE)
async def test_key_document_leads_to_its_owner(remote: Remote, node: NodeContext) -> None:
    async def key_document(request: web.Request) -> web.Response:
        return web.json_response(
            {"id": remote.url("/keys/1"), "owner": remote.bob,
             "publicKeyPem": _rsa_pem(remote.rsa_key)},
            content_type=AP,
        )

    remote.route("/keys/1", key_document)
    await remote.serve()
    key_id = remote.url("/keys/1")
    remote.overrides = {"publicKey": {"id": key_id, "owner": remote.bob,
                                      "publicKeyPem": _rsa_pem(remote.rsa_key)}}
    actors = RemoteActors(node)
    owner = await actors.by_key_id(key_id)
    assert (owner.iri, owner.rsa_key_id) == (remote.bob, key_id)
    # From now on the stored key id answers without any request.
    await actors.by_key_id(key_id)
    assert remote.hits == {"/keys/1": 1, "/users/bob": 1}


@pytest.mark.spec("security v1 publicKey owner; " + ISSUE)
@pytest.mark.parametrize(
    "public_key",
    [
        # The key names another owner.
        lambda r: {"id": f"{r.bob}#main-key", "owner": r.url("/users/eve"),
                   "publicKeyPem": _rsa_pem(r.rsa_key)},
        # The key id lives on another origin: a bid to take over someone else's key id.
        lambda r: {"id": "https://victim.example/users/v#main-key", "owner": r.bob,
                   "publicKeyPem": _rsa_pem(r.rsa_key)},
        # The key is not readable.
        lambda r: {"id": f"{r.bob}#main-key", "owner": r.bob,
                   "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
    ],
)
async def test_keys_the_actor_does_not_own_are_ignored(
    remote: Remote, node: NodeContext, public_key: Any
) -> None:
    await remote.serve()
    entry = public_key(remote)
    remote.overrides = {"publicKey": entry}
    actors = RemoteActors(node)
    record = await actors.get(remote.bob)
    assert record.rsa_key_id is None and record.rsa_public_pem is None
    assert await actors.key_resolver(f"{remote.bob}#main-key", False) is None
    async with node.storage.read() as session:
        assert await session.get_remote_actor_by_key(entry["id"]) is None
    with pytest.raises(FetchError) as caught:
        await actors.by_key_id(f"{remote.bob}#main-key")
    assert caught.value.reason == "key-mismatch"


@pytest.mark.spec(ISSUE)
async def test_key_document_whose_owner_disowns_it(remote: Remote, node: NodeContext) -> None:
    async def key_document(request: web.Request) -> web.Response:
        return web.json_response({"id": remote.url("/keys/9"), "owner": remote.bob},
                                 content_type=AP)

    remote.route("/keys/9", key_document)
    await remote.serve()
    actors = RemoteActors(node)
    assert await actors.key_resolver(remote.url("/keys/9"), False) is None


@pytest.mark.spec(ISSUE)
async def test_resolver_says_unknown_for_missing_and_raises_for_transient(
    remote: Remote, node: NodeContext
) -> None:
    await remote.serve()
    actors = RemoteActors(node)
    remote.status = 404
    assert await actors.key_resolver(f"{remote.bob}#main-key", False) is None
    remote.status = 502
    with pytest.raises(FetchError) as caught:
        await actors.key_resolver(f"{remote.bob}#main-key", True)
    assert caught.value.transient


@pytest.mark.spec("Kula federation issue: local actors are never fetched over HTTP")
async def test_local_actors_resolve_without_http(node: NodeContext) -> None:
    node.http = None  # any HTTP attempt would now raise RuntimeError
    member = await accounts.create_member(node, "alice", password="correct horse battery staple")
    actors = RemoteActors(node)
    alice = await local_actor_by_iri(node, node.urls.actor("alice"))
    instance = await instance_actor(node)
    assert alice is not None and alice.member == member
    record = await actors.get(alice.iri)
    assert (record.iri, record.type) == (alice.iri, "Person")
    assert record.inbox == node.urls.inbox("alice")
    assert record.rsa_public_pem == rsa_public_pem(alice.rsa_private_pem)
    rsa_key = await actors.key_resolver(instance.rsa_key_id, False)
    assert _pem_of(rsa_key) == rsa_public_pem(instance.rsa_private_pem)
    assert _pem_of(await actors.key_resolver(instance.rsa_key_id, True)) == _pem_of(rsa_key)
    ed_key = await actors.key_resolver(alice.ed25519_key_id, False)
    expected = load_ed25519_private(alice.ed25519_private_pem).public_key()
    assert isinstance(ed_key, VerificationKey)
    assert ed_key.key.public_bytes_raw() == expected.public_bytes_raw()
    assert (await actors.by_key_id(alice.rsa_key_id)).iri == alice.iri
    community = node.urls.actor(node.settings.community_handle)
    assert (await actors.get(community)).type == "Group"
    async with node.storage.read() as session:
        assert await session.get_remote_actor(alice.iri) is None
    with pytest.raises(NotFound):
        await actors.get(node.urls.actor("nobody"))
    assert await actors.key_resolver(node.urls.actor("nobody") + "#main-key", False) is None


def _pem_of(key: Any) -> str:
    assert isinstance(key, rsa.RSAPublicKey), key
    return public_key_to_pem(key)
