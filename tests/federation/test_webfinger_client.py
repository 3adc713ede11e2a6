"""WebFinger client: handles to actor IRIs, asked of a real server on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import make_settings
from test_fetch import Origin, ServerFactory, TrustingResolver
from test_ssrf import FakeDns

from node.bootstrap import ensure_node_actors
from node.errors import BadRequest, NotFound
from node.federation.fetch import FetchError
from node.federation.http import FederationHttp
from node.federation.webfinger import parse_handle, resolve_handle
from node.services import accounts
from node.services.context import NodeContext
from node.storage import create_storage

RFC7033 = "RFC 7033 §4"
JRD = "application/jrd+json"


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


class Finger(Origin):
    """A host answering WebFinger with whatever links the test sets."""

    def __init__(self, aiohttp_server: ServerFactory) -> None:
        super().__init__(aiohttp_server)
        self.links: list[dict[str, Any]] = []
        self.status = 200
        self.content_type = JRD
        self.resources: list[str] = []
        self.route("/.well-known/webfinger", self._answer)

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.port}"

    async def _answer(self, request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        self.resources.append(resource)
        if self.status != 200:
            return web.Response(status=self.status)
        body = {"subject": resource, "links": self.links}
        return web.json_response(body, content_type=self.content_type)


@pytest.fixture
def finger(aiohttp_server: ServerFactory) -> Finger:
    return Finger(aiohttp_server)


AP_SELF = {"rel": "self", "type": "application/activity+json"}


@pytest.mark.spec(RFC7033)
@pytest.mark.parametrize("form", ["{host}", "@{host}", "acct:{host}"])
async def test_handle_resolves_to_the_self_link(
    finger: Finger, node: NodeContext, form: str
) -> None:
    await finger.serve()
    bob = finger.url("/users/bob")
    finger.links = [{**AP_SELF, "href": bob}]
    prefix, _, _ = form.partition("{host}")
    assert await resolve_handle(node, f"{prefix}bob@{finger.host}") == bob
    assert finger.resources == [f"acct:bob@{finger.host}"]


@pytest.mark.spec("RFC 7033 §4.4.4; ActivityPub WebFinger practice")
async def test_only_an_activitypub_self_link_counts(finger: Finger, node: NodeContext) -> None:
    await finger.serve()
    bob = finger.url("/users/bob")
    finger.links = [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
         "href": finger.url("/@bob")},
        {"rel": "self", "type": "text/html", "href": finger.url("/@bob")},
        {"rel": "self", "type": "application/activity+json"},
        "not a link",
        {"rel": "self", "href": bob,
         "type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'},
    ]
    assert await resolve_handle(node, f"bob@{finger.host}") == bob


@pytest.mark.spec(RFC7033)
async def test_no_activitypub_link_is_not_found(finger: Finger, node: NodeContext) -> None:
    await finger.serve()
    finger.links = [{"rel": "self", "type": "text/html", "href": finger.url("/@bob")}]
    with pytest.raises(NotFound):
        await resolve_handle(node, f"bob@{finger.host}")


@pytest.mark.spec("RFC 7033 §4.2")
async def test_unknown_account_is_not_found(finger: Finger, node: NodeContext) -> None:
    await finger.serve()
    finger.status = 404
    with pytest.raises(NotFound):
        await resolve_handle(node, f"nobody@{finger.host}")


@pytest.mark.spec("RFC 7033 §10.2")
async def test_wrong_media_type_is_refused(finger: Finger, node: NodeContext) -> None:
    await finger.serve()
    finger.content_type = "text/html"
    with pytest.raises(FetchError) as caught:
        await resolve_handle(node, f"bob@{finger.host}")
    assert caught.value.reason == "bad-content-type"


@pytest.mark.spec("RFC 7565 §7")
@pytest.mark.parametrize(
    "handle",
    ["bob", "@bob", "bob@", "@bob@", "acct:", "bo b@example.org", "bob@example.org/x",
     "bob@evil@example.org", "bob@ftp://example.org", "<script>@example.org",
     "bob@[::1", "bob@exa mple.org", "bob@example.org:99999", ""],
)
def test_malformed_handles_are_refused(handle: str) -> None:
    with pytest.raises(BadRequest):
        parse_handle(handle)


@pytest.mark.spec("RFC 7565 §7")
def test_handle_parts() -> None:
    assert parse_handle("acct:Bob.S@Example.ORG:8443") == ("Bob.S", "example.org:8443")


@pytest.mark.spec("Kula federation issue: SSRF guard")
async def test_self_link_to_a_private_address_is_refused(
    finger: Finger, node: NodeContext
) -> None:
    await finger.serve()
    finger.links = [{**AP_SELF, "href": "http://10.0.0.8/users/bob"}]
    settings = dataclasses.replace(node.settings, allow_private_network=False)
    resolver = TrustingResolver(FakeDns({"origin.example": ["127.0.0.1"]}), {"origin.example"})
    async with FederationHttp(settings, resolver=resolver) as guarded:
        node.http = guarded
        assert finger.server is not None
        with pytest.raises(FetchError) as caught:
            await resolve_handle(node, f"bob@origin.example:{finger.server.port}")
    assert caught.value.reason == "unsafe-address"
    assert len(finger.resources) == 1


@pytest.mark.spec("Kula federation issue: local actors are never fetched over HTTP")
async def test_local_handles_are_answered_from_the_database(node: NodeContext) -> None:
    node.http = None
    await accounts.create_member(node, "alice", password="correct horse battery staple")
    host = node.settings.public_host
    assert await resolve_handle(node, f"alice@{host}") == node.urls.actor("alice")
    assert await resolve_handle(node, f"@alice@{host.upper()}") == node.urls.actor("alice")
    with pytest.raises(NotFound):
        await resolve_handle(node, f"nobody@{host}")
