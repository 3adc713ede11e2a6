"""Delivery against real receivers on loopback, stepped one cycle at a time.

Each receiver is an aiohttp app whose inbox verifies the HTTP signature
against the sender's public key and records the activity ids it accepted.
The worker's clock is a :class:`FakeClock`: tests move it past
``next_attempt_at`` instead of waiting. Signatures carry the real time, which
the receivers check.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import make_settings

from node.bootstrap import ensure_node_actors
from node.federation.delivery import (
    ACTIVITY_JSON,
    DeliveryWorker,
    deliver_due,
    set_worker,
)
from node.federation.delivery_policy import HostBreakers
from node.federation.ssrf import SafeResolver
from node.keys import load_ed25519_private, rsa_public_pem
from node.services import accounts
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.storage import create_storage
from node.storage.records import Delivery, Member
from node.timeutil import parse_text, to_text, utc_now
from protocol.httpsig import HttpSignatureError, PublicKey, load_public_key_pem, verify_request

pytestmark = pytest.mark.timeout(30)


class FakeClock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def move_to(self, text: str) -> None:
        self.now = parse_text(text)


@dataclass
class Receiver:
    """A remote inbox that verifies signatures and can misbehave on demand."""

    keys: dict[str, PublicKey]
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    #: When set, requests wait on it before answering: a hanging host.
    hang: asyncio.Event | None = None
    requests: int = 0
    received: list[str] = field(default_factory=list)
    schemes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def inbox(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/inbox"

    async def resolve(self, key_id: str, refresh: bool) -> PublicKey | None:
        return self.keys.get(key_id)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        if self.hang is not None:
            await self.hang.wait()
        if self.status >= 300:
            return web.Response(status=self.status, headers=self.headers, text="go away")
        try:
            verified = await verify_request(
                request.method, str(request.url), request.headers, body,
                key_resolver=self.resolve,
            )
        except HttpSignatureError as exc:
            self.refused.append(str(exc))
            return web.Response(status=401)
        if request.content_type != ACTIVITY_JSON:
            self.refused.append(request.content_type)
            return web.Response(status=415)
        self.received.append(json.loads(body)["id"])
        self.schemes.append(verified.scheme)
        return web.Response(status=202)

    async def start(self, port: int | None = None) -> None:
        app = web.Application()
        app.router.add_post("/inbox", self.handle)
        self.server = TestServer(app, host="127.0.0.1", port=port)
        await self.server.start_server()

    async def stop(self) -> None:
        if self.hang is not None:
            self.hang.set()
        if self.server is not None:
            await self.server.close()


@dataclass
class Node:
    ctx: NodeContext
    member: Member
    clock: FakeClock
    receivers: list[Receiver] = field(default_factory=list)

    @property
    def actor_iri(self) -> str:
        return self.ctx.urls.actor(self.member.username)

    async def receiver(self, **options: object) -> Receiver:
        local = member_actor(self.ctx, self.member)
        keys: dict[str, PublicKey] = {
            local.rsa_key_id: load_public_key_pem(rsa_public_pem(local.rsa_private_pem)),
            local.ed25519_key_id: load_ed25519_private(local.ed25519_private_pem).public_key(),
        }
        receiver = Receiver(keys=keys, **options)  # type: ignore[arg-type]
        await receiver.start()
        self.receivers.append(receiver)
        return receiver

    async def queue(self, *inboxes: str, actor_iri: str | None = None,
                    store_activity: bool = True) -> str:
        """Store a Create by alice (persisted first, as the outbox does) and
        one delivery row per inbox, dated by the clock."""
        activity_id = str(uuid.uuid4())
        iri = f"{self.ctx.urls.base}/activities/{activity_id}"
        actor = actor_iri or self.actor_iri
        now = to_text(self.clock())
        document = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": iri, "type": "Create", "actor": actor,
            "object": {"type": "Note", "content": "Lending a ladder"},
        }
        async with self.ctx.storage.transaction() as tx:
            if store_activity:
                await tx.insert_activity(
                    activity_id=activity_id, iri=iri, actor_iri=actor,
                    member_id=self.member.id, type="Create", object_iri=None, public=True,
                    document=document, published_at=now,
                )
            await tx.insert_deliveries(
                iri, actor, [(inbox, urlsplit(inbox).netloc) for inbox in inboxes], now
            )
        return iri

    async def rows(self, inbox: str | None = None) -> list[Delivery]:
        async with self.ctx.storage.read() as session:
            rows = await session.list_deliveries(limit=1000)
        return [row for row in rows if inbox is None or row.inbox == inbox]

    async def row(self, inbox: str) -> Delivery:
        (row,) = await self.rows(inbox)
        return row

    def worker(self, **options: object) -> DeliveryWorker:
        return DeliveryWorker(clock=self.clock, rng=random.Random(5), **options)  # type: ignore[arg-type]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    settings = make_settings(tmp_path / "node")
    storage = create_storage(settings)
    await storage.open()
    ctx = NodeContext(settings=settings, storage=storage)
    await ensure_node_actors(ctx)
    member = await accounts.create_member(ctx, "alice", password=None)
    state = Node(ctx, member, FakeClock())
    yield state
    for receiver in state.receivers:
        await receiver.stop()
    await storage.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.spec("ActivityPub §7.1")
async def test_delivers_each_activity_signed_with_cavage_rsa(
    node: Node, http: aiohttp.ClientSession
) -> None:
    first, second = await node.receiver(), await node.receiver()
    one = await node.queue(first.inbox, second.inbox)
    two = await node.queue(first.inbox)
    worker = node.worker()

    assert await worker.run_once(node.ctx, http) == 3
    assert await worker.run_once(node.ctx, http) == 0

    assert sorted(first.received) == sorted([one, two])
    assert second.received == [one]
    assert first.schemes == ["cavage", "cavage"] and first.refused == []
    rows = await node.rows()
    assert [(row.state, row.last_status, row.attempts) for row in rows] == [
        ("delivered", 202, 1)
    ] * 3


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1")
async def test_cavage_signature_uses_rsa_sha256_and_covers_the_digest(
    node: Node, http: aiohttp.ClientSession
) -> None:
    seen: list[dict[str, str]] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/inbox", capture)
    async with TestServer(app, host="127.0.0.1") as server:
        await node.queue(f"http://127.0.0.1:{server.port}/inbox")
        await node.worker().run_once(node.ctx, http)
    (headers,) = seen
    signature = headers["Signature"]
    assert 'algorithm="rsa-sha256"' in signature
    assert 'headers="(request-target) host date digest"' in signature
    assert f'keyId="{node.actor_iri}#main-key"' in signature
    assert headers["Digest"].startswith("SHA-256=")
    assert headers["Content-Type"] == ACTIVITY_JSON


@pytest.mark.spec("RFC 9421 §3.1")
async def test_rfc9421_ed25519_signatures_can_be_enabled(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    iri = await node.queue(receiver.inbox)
    await node.worker(signature_scheme="rfc9421").run_once(node.ctx, http)
    assert receiver.received == [iri]
    assert receiver.schemes == ["rfc9421"]


@pytest.mark.spec("RFC 9110 §15.5.11")
async def test_gone_fails_permanently_without_retry(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver(status=410)
    await node.queue(receiver.inbox)
    worker = node.worker()
    await worker.run_once(node.ctx, http)
    row = await node.row(receiver.inbox)
    assert (row.state, row.last_status, row.locked_until) == ("failed", 410, None)
    assert row.last_error is not None and "go away" in row.last_error

    node.clock.advance(days=10)
    assert await worker.run_once(node.ctx, http) == 0
    assert receiver.requests == 1


@pytest.mark.spec("RFC 9110 §10.2.3")
@pytest.mark.parametrize("seconds", [5, 120])
async def test_unavailable_with_retry_after_waits_exactly_that_long(
    node: Node, http: aiohttp.ClientSession, seconds: int
) -> None:
    receiver = await node.receiver(status=503, headers={"Retry-After": str(seconds)})
    iri = await node.queue(receiver.inbox)
    worker = node.worker()
    started = node.clock()
    await worker.run_once(node.ctx, http)
    row = await node.row(receiver.inbox)
    assert (row.state, row.last_status) == ("retrying", 503)
    # Sooner or later than the backoff would say: the receiver's word wins.
    assert parse_text(row.next_attempt_at) == started + timedelta(seconds=seconds)

    receiver.status = 202
    node.clock.advance(seconds=seconds - 1)
    assert await worker.run_once(node.ctx, http) == 0
    node.clock.advance(seconds=1)
    assert await worker.run_once(node.ctx, http) == 1
    assert receiver.received == [iri]


@pytest.mark.spec("Kula federation: delivery backoff")
async def test_server_error_backs_off_then_delivers_when_the_host_recovers(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver(status=500)
    iri = await node.queue(receiver.inbox)
    worker = node.worker()
    started = node.clock()
    await worker.run_once(node.ctx, http)
    row = await node.row(receiver.inbox)
    assert (row.state, row.last_status, row.last_error) == ("retrying", 500, "HTTP 500")
    wait = parse_text(row.next_attempt_at) - started
    assert timedelta(seconds=15) <= wait <= timedelta(seconds=30)

    assert await worker.run_once(node.ctx, http) == 0  # not due yet
    receiver.status = 202
    node.clock.move_to(row.next_attempt_at)
    await worker.run_once(node.ctx, http)
    row = await node.row(receiver.inbox)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 2, 202)
    assert receiver.received == [iri]
    assert receiver.requests == 2


@pytest.mark.spec("Kula federation: delivery retry")
async def test_down_host_is_retried_and_reached_when_back_on_its_port(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    inbox, port = receiver.inbox, receiver.server.port  # type: ignore[union-attr]
    await receiver.server.close()  # type: ignore[union-attr]
    iri = await node.queue(inbox)
    worker = node.worker()
    await worker.run_once(node.ctx, http)
    row = await node.row(inbox)
    assert (row.state, row.last_status) == ("retrying", None)
    assert row.last_error and "Connect" in row.last_error

    await receiver.start(port=port)
    node.clock.move_to(row.next_attempt_at)
    await worker.run_once(node.ctx, http)
    assert (await node.row(inbox)).state == "delivered"
    assert receiver.received == [iri]


@pytest.mark.spec("Kula federation: circuit breaker")
async def test_open_breaker_keeps_a_dead_host_out_while_others_flow(
    node: Node, http: aiohttp.ClientSession
) -> None:
    dead, alive = await node.receiver(status=500), await node.receiver()
    worker = node.worker(
        breakers=HostBreakers(threshold=3, base_cooldown=timedelta(minutes=10))
    )
    for _ in range(3):
        await node.queue(dead.inbox, alive.inbox)
    await worker.run_once(node.ctx, http)
    assert dead.requests == 3 and len(alive.received) == 3
    dead_host = urlsplit(dead.inbox).netloc
    breaker = worker.breakers.for_host(dead_host)
    assert breaker.is_open(node.clock())
    reopens = breaker.open_until
    assert reopens is not None
    # The failure that opened it schedules its row for when the breaker half-opens.
    dead_rows = [row for row in await node.rows() if row.host == dead_host]
    assert max(row.next_attempt_at for row in dead_rows) == to_text(reopens)

    # Every failed row is due again, and two more activities come along.
    node.clock.advance(minutes=2)
    fresh = [await node.queue(dead.inbox, alive.inbox) for _ in range(2)]
    await worker.run_once(node.ctx, http)
    assert dead.requests == 3  # not contacted while open
    assert sorted(alive.received[-2:]) == sorted(fresh)
    dead_rows = [row for row in await node.rows() if row.host == dead_host]
    assert {row.state for row in dead_rows} == {"retrying"}
    assert {row.next_attempt_at for row in dead_rows} == {to_text(reopens)}
    # Rows held back were not attempts.
    assert sorted(row.attempts for row in dead_rows) == [0, 0, 1, 1, 1]

    # Half-open: one probe goes through; once it succeeds the rest follow.
    dead.status = 202
    node.clock.move_to(to_text(reopens))
    await worker.run_once(node.ctx, http)
    assert dead.requests == 4 and len(dead.received) == 1
    node.clock.advance(seconds=30)
    await worker.run_once(node.ctx, http)
    assert len(set(dead.received)) == 5
    assert {row.state for row in await node.rows()} == {"delivered"}


@pytest.mark.spec("Kula federation: circuit breaker")
async def test_unreachable_host_opens_its_breaker(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    inbox = receiver.inbox
    await receiver.server.close()  # type: ignore[union-attr]
    for _ in range(3):
        await node.queue(inbox)
    worker = node.worker(breakers=HostBreakers(threshold=2, base_cooldown=timedelta(minutes=10)))
    await worker.run_once(node.ctx, http)
    host = urlsplit(inbox).netloc
    assert worker.breakers.for_host(host).is_open(node.clock())
    node.clock.advance(minutes=1)
    await worker.run_once(node.ctx, http)
    # Held back, not tried: no attempt was spent while the breaker was open.
    assert [row.attempts for row in await node.rows()] == [1, 1, 1]


@dataclass
class SendLog:
    """What a wrapped worker's sends did: the most requests in flight at
    once, per host and in all (``"*"``), and the order sends finished in."""

    in_flight: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)


def _observe_sends(worker: DeliveryWorker, monkeypatch: pytest.MonkeyPatch) -> SendLog:
    """Wrap the worker's real send (the network stays real) to watch it."""
    real_post = worker._post
    log = SendLog()

    async def observed_post(session: aiohttp.ClientSession, row: Delivery, *rest: object):  # type: ignore[no-untyped-def]
        for key in (row.host, "*"):
            log.in_flight[key] = log.in_flight.get(key, 0) + 1
            log.peak[key] = max(log.peak.get(key, 0), log.in_flight[key])
        try:
            return await real_post(session, row, *rest)  # type: ignore[arg-type]
        finally:
            for key in (row.host, "*"):
                log.in_flight[key] -= 1
            log.finished.append(row.host)

    monkeypatch.setattr(worker, "_post", observed_post)
    return log


@pytest.mark.spec("Kula federation: per-host concurrency")
async def test_requests_respect_the_per_host_and_global_limits(
    node: Node, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = [await node.receiver() for _ in range(3)]
    # Each host's rows are claimed together, so the global limit alone would
    # let five requests at the first host.
    for receiver in (first, second, third):
        for _ in range(6):
            await node.queue(receiver.inbox)
    worker = node.worker(per_host_limit=2, global_limit=5)
    sends = _observe_sends(worker, monkeypatch)
    assert await worker.run_once(node.ctx, http) == 18
    assert {host: count for host, count in sends.peak.items() if host != "*"} == {
        urlsplit(receiver.inbox).netloc: 2 for receiver in (first, second, third)
    }
    assert sends.peak["*"] == 5
    assert all(len(receiver.received) == 6 for receiver in (first, second, third))


@pytest.mark.spec("Kula federation: delivery timeout")
async def test_hanging_host_is_bounded_and_does_not_hold_up_others(
    node: Node, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanging = await node.receiver(hang=asyncio.Event())
    alive = await node.receiver()
    iri = await node.queue(hanging.inbox, alive.inbox)
    worker = node.worker(request_timeout=1.0)
    sends = _observe_sends(worker, monkeypatch)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(worker.run_once(node.ctx, http), timeout=10)
    assert loop.time() - started < 5
    assert alive.received == [iri]
    # The healthy host was done with while the other one was still hanging.
    assert sends.finished == [urlsplit(alive.inbox).netloc, urlsplit(hanging.inbox).netloc]
    row = await node.row(hanging.inbox)
    assert (row.state, row.last_error) == ("retrying", "no answer within 1 s")
    assert hanging.requests == 1


@pytest.mark.spec("Kula federation: delivery locking")
async def test_concurrent_cycles_never_send_a_row_twice(
    node: Node, http: aiohttp.ClientSession
) -> None:
    first, second = await node.receiver(), await node.receiver()
    sent = [await node.queue(first.inbox, second.inbox) for _ in range(15)]
    workers = [node.worker(), node.worker()]
    handled = await asyncio.gather(*(w.run_once(node.ctx, http, limit=10) for w in workers))
    handled += await asyncio.gather(*(w.run_once(node.ctx, http, limit=10) for w in workers))
    assert sum(handled) == 30
    for receiver in (first, second):
        assert sorted(receiver.received) == sorted(sent)
        assert receiver.requests == 15
    assert {(row.state, row.attempts) for row in await node.rows()} == {("delivered", 1)}


@pytest.mark.spec("Kula federation: delivery locking")
async def test_row_of_a_dead_worker_is_claimed_again_after_its_lock_expires(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    iri = await node.queue(receiver.inbox)
    now = node.clock()
    async with node.ctx.storage.transaction() as tx:
        (claimed,) = await tx.claim_deliveries(
            to_text(now), to_text(now + timedelta(minutes=2)), 10
        )
    # That worker died mid-send: its row stays `sending` under a live lock.
    worker = node.worker()
    assert await worker.run_once(node.ctx, http) == 0
    node.clock.advance(minutes=2, seconds=1)
    assert await worker.run_once(node.ctx, http) == 1
    row = await node.row(receiver.inbox)
    assert (row.id, row.state, row.attempts) == (claimed.id, "delivered", 2)
    assert receiver.received == [iri]


@pytest.mark.spec("Kula federation: delivery max age")
async def test_rows_older_than_max_age_fail_without_being_sent(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    await node.queue(receiver.inbox)
    node.clock.advance(days=5, seconds=1)
    await node.worker().run_once(node.ctx, http)
    row = await node.row(receiver.inbox)
    assert row.state == "failed"
    assert row.last_error and row.last_error.startswith("gave up")
    assert receiver.requests == 0


@pytest.mark.spec("Kula federation: delivery max age")
async def test_a_retry_past_max_age_fails_instead(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver(status=502)
    await node.queue(receiver.inbox)
    node.clock.advance(days=5, seconds=-10)
    await node.worker().run_once(node.ctx, http)
    row = await node.row(receiver.inbox)
    assert (row.state, row.last_status) == ("failed", 502)
    assert row.last_error == "gave up after 1 attempts: HTTP 502"
    assert receiver.requests == 1


@pytest.mark.spec("Kula federation: delivery errors")
async def test_missing_activity_or_foreign_actor_fail_with_a_reason(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    ghost = await node.queue(receiver.inbox, store_activity=False)
    foreign = await node.queue(receiver.inbox, actor_iri="https://elsewhere.example/users/bob")
    fine = await node.queue(receiver.inbox)
    await node.worker().run_once(node.ctx, http)
    errors = {row.activity_iri: (row.state, row.last_error) for row in await node.rows()}
    assert errors[ghost] == ("failed", f"activity {ghost} is not stored")
    assert errors[foreign] == (
        "failed", "https://elsewhere.example/users/bob is not an actor of this node"
    )
    assert errors[fine] == ("delivered", None)
    assert receiver.received == [fine]


@pytest.mark.spec("Kula federation: delivery errors")
async def test_a_crash_on_one_row_retries_it_and_spares_the_rest(
    node: Node, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken, alive = await node.receiver(), await node.receiver()
    iri = await node.queue(broken.inbox, alive.inbox)
    worker = node.worker()
    real_post = worker._post

    async def flaky_post(session: aiohttp.ClientSession, row: Delivery, *rest: object):  # type: ignore[no-untyped-def]
        if row.inbox == broken.inbox:
            raise RuntimeError("bug in the sender")
        return await real_post(session, row, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(worker, "_post", flaky_post)
    assert await worker.run_once(node.ctx, http) == 2
    row = await node.row(broken.inbox)
    assert row.state == "retrying"
    assert row.last_error == "internal error: RuntimeError('bug in the sender')"
    assert alive.received == [iri]
    # A local bug says nothing about the host: its breaker stays closed.
    assert worker.breakers.for_host(row.host).consecutive_failures == 0


class _Http:
    """Stands in for the node's FederationHttp: only ``session`` is used."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session


@pytest.mark.spec("Kula federation: workers step")
async def test_deliver_due_is_a_worker_step(node: Node, http: aiohttp.ClientSession) -> None:
    receiver = await node.receiver()
    iri = await node.queue(receiver.inbox)
    node.ctx.http = _Http(http)  # type: ignore[assignment]
    set_worker(node.ctx, node.worker())
    assert await deliver_due(node.ctx) == 1
    assert await deliver_due(node.ctx) == 0
    assert receiver.received == [iri]


@pytest.mark.spec("Kula federation: SSRF guard")
async def test_inboxes_the_ssrf_guard_refuses_fail_without_a_request(
    node: Node, http: aiohttp.ClientSession
) -> None:
    receiver = await node.receiver()
    port = receiver.server.port  # type: ignore[union-attr]
    odd = await node.queue("ftp://127.0.0.1/inbox", f"http://user@127.0.0.1:{port}/inbox")
    # Passes the shape check, but the name resolves to loopback, which this
    # client's resolver refuses.
    by_name = await node.queue(f"http://localhost:{port}/inbox")
    guarded = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=SafeResolver(allow_private=False))
    )
    async with guarded:
        assert await node.worker().run_once(node.ctx, guarded) == 3
    rows = await node.rows()
    assert {(row.activity_iri, row.state) for row in rows} == {
        (odd, "failed"), (by_name, "failed")
    }
    assert all(row.last_error and " refused: " in row.last_error for row in rows)
    assert receiver.requests == 0
