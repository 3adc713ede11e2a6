"""Signed, SSRF-guarded fetches against real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import make_settings
from test_ssrf import FakeDns

from node.bootstrap import ensure_node_actors
from node.federation.fetch import MAX_REDIRECTS, FetchError, fetch_document, fetch_json
from node.federation.http import FederationHttp
from node.federation.ssrf import SafeResolver
from node.keys import load_rsa_private
from node.services.actors import LocalActor, instance_actor
from node.services.context import NodeContext
from node.storage import create_storage
from protocol.httpsig import verify_request

ISSUE = "Kula federation issue: remote fetches"
AP = "application/activity+json"
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
HttpFactory = Callable[..., Awaitable[FederationHttp]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def node_ctx(tmp_path: Path) -> AsyncIterator[NodeContext]:
    settings = make_settings(tmp_path / "node")
    storage = create_storage(settings)
    await storage.open()
    ctx = NodeContext(settings=settings, storage=storage)
    await ensure_node_actors(ctx)
    yield ctx
    await storage.close()


@pytest.fixture
async def signer(node_ctx: NodeContext) -> LocalActor:
    return await instance_actor(node_ctx)


@pytest.fixture
async def open_http(node_ctx: NodeContext) -> AsyncIterator[HttpFactory]:
    """Open federation clients; ``allow_private`` picks the settings, the rest are options."""
    opened: list[FederationHttp] = []

    async def factory(*, allow_private: bool = True, **options: Any) -> FederationHttp:
        settings = dataclasses.replace(node_ctx.settings, allow_private_network=allow_private)
        http = FederationHttp(settings, **options)
        await http.start()
        opened.append(http)
        return http

    yield factory
    for http in opened:
        await http.close()


class TrustingResolver(SafeResolver):
    """Lets the test's "public" origin resolve to loopback, where the test server
    listens; every other name goes through the real checks."""

    def __init__(self, dns: FakeDns, trusted: set[str]) -> None:
        super().__init__(allow_private=False, inner=dns)
        self.trusted = trusted

    def check_resolved(self, hostname: str, address_text: str) -> None:
        if hostname not in self.trusted:
            super().check_resolved(hostname, address_text)


def _json(document: Any, content_type: str = AP) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), headers={"Content-Type": content_type})


class Origin:
    """A remote server on loopback whose routes count their hits.

    Add routes, then ``await serve()``; handlers may read ``url()`` at request time.
    """

    def __init__(self, aiohttp_server: ServerFactory) -> None:
        self.app = web.Application()
        self.hits: Counter[str] = Counter()
        self.requests: list[web.Request] = []
        self._start = aiohttp_server
        self.server: TestServer | None = None

    def route(self, path: str, handler: Handler) -> None:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.hits[path] += 1
            self.requests.append(request)
            return await handler(request)

        self.app.router.add_get(path, counted)

    def serve_json(self, path: str, document: Any, content_type: str = AP) -> None:
        async def handler(request: web.Request) -> web.Response:
            return _json(document, content_type)

        self.route(path, handler)

    async def serve(self) -> None:
        self.server = await self._start(self.app)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        assert self.server is not None
        return f"http://{host}:{self.server.port}{path}"


@pytest.fixture
def origin(aiohttp_server: ServerFactory) -> Origin:
    return Origin(aiohttp_server)


def _json(document: Any, content_type: str = AP) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), headers={"Content-Type": content_type})


def _redirect(location: str | Callable[[], str], status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        target = location if isinstance(location, str) else location()
        return web.Response(status=status, headers={"Location": target})

    return handler


def _signature_checker(
    signer: LocalActor, verified: list[str]
) -> Callable[[web.Request], Awaitable[None]]:
    public = load_rsa_private(signer.rsa_private_pem).public_key()

    async def resolve(key_id: str, refresh: bool) -> Any:
        return public if key_id == signer.rsa_key_id else None

    async def check(request: web.Request) -> None:
        result = await verify_request(
            request.method, str(request.url), request.headers, None, key_resolver=resolve
        )
        verified.append(f"{result.key_id} {request.path_qs}")

    return check


@pytest.mark.spec("draft-cavage-http-signatures-12 §2; Kula federation issue: authorized fetch")
async def test_signed_get_verifies_on_the_server(
    origin: Origin, open_http: HttpFactory, signer: LocalActor
) -> None:
    verified: list[str] = []
    check = _signature_checker(signer, verified)

    async def actor(request: web.Request) -> web.Response:
        await check(request)
        return _json({"id": "x", "type": "Person"})

    origin.route("/users/bob", actor)
    await origin.serve()
    http = await open_http()
    document = await fetch_json(http, origin.url("/users/bob"), signer=signer)
    assert document == {"id": "x", "type": "Person"}
    assert verified == [f"{signer.rsa_key_id} /users/bob"]
    request = origin.requests[0]
    assert request.headers["Accept"].startswith(AP)
    assert request.headers["User-Agent"] == http.user_agent
    assert http.user_agent.startswith("Kula/") and http.settings.url in http.user_agent


@pytest.mark.spec(ISSUE)
async def test_fetch_through_the_node_context_and_unsigned(
    origin: Origin, open_http: HttpFactory, node_ctx: NodeContext
) -> None:
    origin.serve_json("/doc", {"a": 1})
    await origin.serve()
    node_ctx.http = await open_http()
    assert await fetch_json(node_ctx, origin.url("/doc"), signer=None) == {"a": 1}
    assert "Signature" not in origin.requests[0].headers


@pytest.mark.spec("RFC 9110 §15.4; Kula federation issue: every redirect re-checked and re-signed")
async def test_redirects_are_followed_and_each_hop_signed(
    origin: Origin, open_http: HttpFactory, signer: LocalActor
) -> None:
    verified: list[str] = []
    check = _signature_checker(signer, verified)

    def signed(handler: Handler) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            await check(request)
            return await handler(request)
        return wrapper

    async def final(request: web.Request) -> web.Response:
        profile = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
        return _json({"id": "final"}, profile)

    origin.route("/a", signed(_redirect("/b", 301)))
    origin.route("/b", signed(_redirect(lambda: origin.url("/c/d?x=1"), 308)))
    origin.route("/c/d", signed(_redirect("e", 303)))
    origin.route("/c/e", signed(final))
    await origin.serve()
    fetched = await fetch_document(await open_http(), origin.url("/a"), signer=signer)
    assert fetched.document == {"id": "final"}
    assert fetched.url == origin.url("/c/e")
    key = signer.rsa_key_id
    assert verified == [f"{key} /a", f"{key} /b", f"{key} /c/d?x=1", f"{key} /c/e"]


@pytest.mark.spec(ISSUE)
async def test_redirect_loop_stops(origin: Origin, open_http: HttpFactory) -> None:
    origin.route("/a", _redirect("/b"))
    origin.route("/b", _redirect("/a"))
    await origin.serve()
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(), origin.url("/a"), signer=None)
    assert caught.value.reason == "too-many-redirects"
    assert caught.value.status == 502
    assert sum(origin.hits.values()) == MAX_REDIRECTS + 1


@pytest.mark.spec(ISSUE)
async def test_redirect_without_location_is_refused(origin: Origin, open_http: HttpFactory) -> None:
    async def bare(request: web.Request) -> web.Response:
        return web.Response(status=302)

    origin.route("/a", bare)
    await origin.serve()
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(), origin.url("/a"), signer=None)
    assert caught.value.reason == "bad-status"


async def _public_origin_http(open_http: HttpFactory, **answers: list[str]) -> FederationHttp:
    """A client that refuses private networks but trusts ``origin.example`` (the test server)."""
    dns = FakeDns({"origin.example": ["127.0.0.1"], **answers})
    return await open_http(allow_private=False, resolver=TrustingResolver(dns, {"origin.example"}))


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/secret", "http://[::1]:{port}/secret", "http://2130706433:{port}/secret",
     "http://localhost:{port}/secret", "http://evil.example:{port}/secret",
     "file:///etc/passwd"],
)
async def test_redirect_to_a_private_address_is_refused(
    origin: Origin, open_http: HttpFactory, target: str
) -> None:
    origin.route("/start", _redirect(lambda: target.format(port=origin.server.port)))
    origin.serve_json("/secret", {"secret": True})
    await origin.serve()
    http = await _public_origin_http(open_http, **{"evil.example": ["127.0.0.1"]})
    with pytest.raises(FetchError) as caught:
        await fetch_json(http, origin.url("/start", host="origin.example"), signer=None)
    assert caught.value.reason == "unsafe-redirect"
    assert caught.value.status == 502
    assert origin.hits == Counter({"/start": 1})


@pytest.mark.spec(ISSUE)
async def test_name_resolving_to_loopback_is_refused(
    origin: Origin, open_http: HttpFactory
) -> None:
    origin.serve_json("/secret", {"secret": True})
    await origin.serve()
    url = origin.url("/secret", host="evil.example")
    guarded = await _public_origin_http(open_http, **{"evil.example": ["127.0.0.1"]})
    with pytest.raises(FetchError) as caught:
        await fetch_json(guarded, url, signer=None)
    assert (caught.value.reason, caught.value.status) == ("unsafe-address", 422)
    assert origin.hits["/secret"] == 0
    # The same fake answer is followed when private networks are allowed.
    dns = FakeDns({"evil.example": ["127.0.0.1"]})
    relaxed = await open_http(resolver=SafeResolver(allow_private=True, inner=dns))
    assert await fetch_json(relaxed, url, signer=None) == {"secret": True}
    assert dns.asked == ["evil.example"]


@pytest.mark.spec(ISSUE)
async def test_literal_loopback_is_refused_without_connecting(
    origin: Origin, open_http: HttpFactory
) -> None:
    origin.serve_json("/secret", {"secret": True})
    await origin.serve()
    http = await open_http(allow_private=False)
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(FetchError) as caught:
            await fetch_json(http, origin.url("/secret", host=host), signer=None)
        assert caught.value.reason == "unsafe-address"
    assert origin.hits["/secret"] == 0


@pytest.mark.spec(ISSUE)
async def test_private_network_refusal_is_configured_by_settings(open_http: HttpFactory) -> None:
    with pytest.raises(ValueError, match="resolver allows private"):
        await open_http(allow_private=False, resolver=SafeResolver(allow_private=True))


@pytest.mark.spec(ISSUE)
async def test_declared_oversize_body_is_refused_unread(
    origin: Origin, open_http: HttpFactory
) -> None:
    origin.serve_json("/big", {"pad": "x" * 5000})
    await origin.serve()
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(max_response_bytes=4096), origin.url("/big"), signer=None)
    assert caught.value.reason == "too-large"


@pytest.mark.spec(ISSUE)
async def test_endless_stream_is_cut_at_the_cap(origin: Origin, open_http: HttpFactory) -> None:
    chunk = b"[" * 65536
    endless_bytes = 256 * 1024 * 1024
    sent = [0]

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AP})
        await response.prepare(request)
        try:
            while sent[0] < endless_bytes:
                await response.write(chunk)
                sent[0] += len(chunk)
        except ConnectionError:
            pass  # the client hung up, which is the point
        return response

    origin.route("/endless", endless)
    await origin.serve()
    cap = 256 * 1024
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(max_response_bytes=cap), origin.url("/endless"),
                         signer=None)
    assert caught.value.reason == "too-large"
    # Socket buffers hold a few megabytes at most; the server never got near the end.
    assert sent[0] < endless_bytes


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    ("content_type", "json_ok", "accepted"),
    [
        ("application/activity+json", False, True),
        ("application/activity+json; charset=utf-8", False, True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', False, True),
        ("application/ld+json", False, True),
        ("application/json", False, False),
        ("text/html", False, False),
        ("text/plain", False, False),
        ("application/json", True, True),
        ("application/jrd+json", True, True),
        ("text/html", True, False),
    ],
)
async def test_content_type_is_checked(
    origin: Origin, open_http: HttpFactory, content_type: str, json_ok: bool, accepted: bool
) -> None:
    origin.serve_json("/doc", {"a": 1}, content_type)
    await origin.serve()
    http = await open_http()
    if accepted:
        assert await fetch_json(http, origin.url("/doc"), signer=None, json_ok=json_ok) == {"a": 1}
        return
    with pytest.raises(FetchError) as caught:
        await fetch_json(http, origin.url("/doc"), signer=None, json_ok=json_ok)
    assert caught.value.reason == "bad-content-type"


@pytest.mark.spec("RFC 7493 §2; Kula federation issue: remote fetches")
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>nope</html>", "malformed"),
        (b'{"a": 1', "malformed"),
        (b'{"a": 1, "a": 2}', "malformed"),
        (b"[1, 2]", "malformed"),
        (b'"text"', "malformed"),
        (b"\xff\xfe{}", "malformed"),
        (b"[" * 40 + b"]" * 40, "too-large"),
    ],
)
async def test_garbage_json_is_refused(
    origin: Origin, open_http: HttpFactory, body: bytes, reason: str
) -> None:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=AP)

    origin.route("/doc", garbage)
    await origin.serve()
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(), origin.url("/doc"), signer=None)
    assert caught.value.reason == reason
    assert caught.value.status == 502


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    ("status", "client_status", "transient"),
    [(404, 404, False), (410, 410, False), (401, 502, False), (500, 502, True),
     (503, 502, True), (429, 502, True), (204, 502, False)],
)
async def test_non_success_status(
    origin: Origin, open_http: HttpFactory, status: int, client_status: int, transient: bool
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, content_type=AP, body=b"{}" if status != 204 else None)

    origin.route("/doc", answer)
    await origin.serve()
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(), origin.url("/doc"), signer=None)
    error = caught.value
    expected_reason = "malformed" if status == 204 else "bad-status"
    assert error.reason == expected_reason
    assert error.status == client_status
    assert error.transient is transient
    if status != 204:
        assert error.upstream_status == status


@pytest.mark.spec(ISSUE)
async def test_slow_server_times_out(origin: Origin, open_http: HttpFactory) -> None:
    release = asyncio.Event()

    async def stalled(request: web.Request) -> web.Response:
        await release.wait()
        return _json({})

    origin.route("/slow", stalled)
    await origin.serve()
    http = await open_http(total_timeout=0.2)
    try:
        with pytest.raises(FetchError) as caught:
            await fetch_json(http, origin.url("/slow"), signer=None)
    finally:
        release.set()
    assert (caught.value.reason, caught.value.status, caught.value.transient) == (
        "timeout", 504, True
    )
    assert origin.hits["/slow"] == 1


@pytest.mark.spec(ISSUE)
async def test_closed_port_is_a_connection_error(origin: Origin, open_http: HttpFactory) -> None:
    origin.serve_json("/doc", {})
    await origin.serve()
    url = origin.url("/doc")
    assert origin.server is not None
    await origin.server.close()
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(), url, signer=None)
    assert (caught.value.reason, caught.value.transient) == ("connection", True)


@pytest.mark.spec(ISSUE)
async def test_cookies_are_never_sent_back(origin: Origin, open_http: HttpFactory) -> None:
    async def with_cookie(request: web.Request) -> web.Response:
        response = _json({"cookie": request.headers.get("Cookie")})
        response.set_cookie("session", "tracking")
        return response

    origin.route("/doc", with_cookie)
    await origin.serve()
    http = await open_http()
    assert await fetch_json(http, origin.url("/doc"), signer=None) == {"cookie": None}
    assert await fetch_json(http, origin.url("/doc"), signer=None) == {"cookie": None}


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize("url", ["ftp://example.org/x", "http://10.0.0.1/x", "not a url"])
async def test_refused_url_is_a_client_error(open_http: HttpFactory, url: str) -> None:
    with pytest.raises(FetchError) as caught:
        await fetch_json(await open_http(allow_private=False), url, signer=None)
    assert (caught.value.reason, caught.value.status) == ("unsafe-address", 422)
