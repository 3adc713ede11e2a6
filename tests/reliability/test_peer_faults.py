"""Faults from peers: a remote node that is slow, hangs, answers garbage,
redirects in a loop, serves a 50 MB body (plain or as a gzip bomb) or resets
the connection. The node's time and memory stay bounded, the bad peers'
deliveries are retried later (or done with), and a healthy peer's deliveries
and fetches queued at the same time go through.

Memory is Python's own allocations (``tracemalloc``) during the step, the
hostile servers' included: reading any of the 50 MB bodies whole would show.
"""

from __future__ import annotations

import asyncio
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from node.federation.delivery import DeliveryWorker
from node.federation.fetch import FetchError, fetch_document
from node.federation.http import FederationHttp
from node.storage.records import Delivery
from node.timeutil import now_text
from tests.federation.harness import Node
from tests.reliability.peers import FAULTS, HUGE_BODY_BYTES, Peer

ISSUE = "Kula reliability issue: faults from peers"
#: Per request, for deliveries and fetches alike (production uses 10 s and 15 s).
REQUEST_TIMEOUT = 1.0
#: Far above what streaming needs, far below one 50 MB body.
MEMORY_BOUND = 12 * 1024 * 1024
#: A step that honours REQUEST_TIMEOUT is done long before this, even on a busy machine.
STEP_BOUND = 10.0
ACTIVITIES = 3

T = TypeVar("T")


@dataclass
class Measured:
    seconds: float
    peak_bytes: int


async def bounded(step: Awaitable[T]) -> tuple[T, Measured]:
    """Run ``step`` within STEP_BOUND and measure its time and Python memory peak."""
    loop = asyncio.get_running_loop()
    with _traced() as peak:
        started = loop.time()
        async with asyncio.timeout(STEP_BOUND):
            result = await step
        return result, Measured(loop.time() - started, peak())


@contextmanager
def _traced() -> Iterator[Callable[[], int]]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
async def peers() -> AsyncIterator[dict[str, Peer]]:
    started: dict[str, Peer] = {}
    async with AsyncExitStack() as stack:
        for fault in ("healthy", *FAULTS):
            peer = Peer(fault)
            stack.push_async_callback(peer.stop)
            started[fault] = await peer.start()
        yield started


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    node = Node("a", tmp_path / "a")
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


async def queue_creates(node: Node, inboxes: list[str], count: int) -> list[str]:
    """Store ``count`` Creates by alice, each queued for every inbox at once."""
    async with node.ctx.storage.read() as session:
        alice = await session.get_member_by_username("alice")
    assert alice is not None
    actor, now, iris = node.actor("alice"), now_text(), []
    async with node.ctx.storage.transaction() as tx:
        for _ in range(count):
            activity_id = str(uuid.uuid4())
            iri = node.ctx.urls.base + f"/activities/{activity_id}"
            document = {"@context": "https://www.w3.org/ns/activitystreams", "id": iri,
                        "type": "Create", "actor": actor,
                        "object": {"type": "Note", "content": "A ladder to lend"}}
            await tx.insert_activity(
                activity_id=activity_id, iri=iri, actor_iri=actor, member_id=alice.id,
                type="Create", object_iri=None, public=True, document=document,
                published_at=now,
            )
            await tx.insert_deliveries(iri, actor, [(inbox, inbox.split("/")[2])
                                                    for inbox in inboxes], now)
            iris.append(iri)
    return iris


def watch_finishes(worker: DeliveryWorker, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hosts of the worker's requests, in the order they ended (the network stays real)."""
    real_post = worker._post
    finished: list[str] = []

    async def post(session: aiohttp.ClientSession, row: Delivery, *rest: Any) -> Any:
        try:
            return await real_post(session, row, *rest)
        finally:
            finished.append(row.host)

    monkeypatch.setattr(worker, "_post", post)
    return finished


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(30)
async def test_bad_peers_cost_a_bounded_delivery_cycle_while_a_healthy_one_gets_everything(
    node: Node, peers: dict[str, Peer], monkeypatch: pytest.MonkeyPatch
) -> None:
    await node.member("alice", scope="write")
    iris = await queue_creates(node, [peer.inbox for peer in peers.values()], ACTIVITIES)
    worker = DeliveryWorker(request_timeout=REQUEST_TIMEOUT)
    finished = watch_finishes(worker, monkeypatch)

    claimed, used = await bounded(worker.run_once(node.ctx, node.ctx.require_http().session))

    assert claimed == ACTIVITIES * len(peers)
    assert used.peak_bytes < MEMORY_BOUND, used
    healthy = peers["healthy"]
    assert sorted(healthy.received) == sorted(iris) and healthy.requests == ACTIVITIES
    # Its deliveries ended before any that waited out the timeout.
    waited = {peers["slow"].host, peers["hang"].host}
    first_wait = min(finished.index(host) for host in waited)
    assert finished.count(healthy.host) == ACTIVITIES
    assert max(i for i, host in enumerate(finished) if host == healthy.host) < first_wait

    outcomes = await _outcomes(node)
    assert outcomes[healthy.inbox] == {("delivered", 202, None)}
    timed_out = f"no answer within {REQUEST_TIMEOUT:g} s"
    assert outcomes[peers["slow"].inbox] == {("retrying", None, timed_out)}
    assert outcomes[peers["hang"].inbox] == {("retrying", None, timed_out)}
    assert outcomes[peers["redirect-loop"].inbox] == {
        ("retrying", 302, "HTTP 302: unexpected status")}
    for fault in ("garbage", "reset"):
        assert {state for state, _, _ in outcomes[peers[fault].inbox]} == {"retrying"}, fault
    # An inbox that accepts and then talks on is delivered to; its talk is not read.
    for fault in ("trickle", "huge", "huge-gzip"):
        assert outcomes[peers[fault].inbox] == {("delivered", 202, None)}, fault
    assert peers["huge"].body_bytes_sent < HUGE_BODY_BYTES
    # One request per row: nothing was followed or repeated within the cycle.
    assert {fault: peer.requests for fault, peer in peers.items()} == dict.fromkeys(
        peers, ACTIVITIES)


async def _outcomes(node: Node) -> dict[str, set[tuple[str, int | None, str | None]]]:
    async with node.ctx.storage.read() as session:
        rows = await session.list_deliveries(limit=1000)
    outcomes: dict[str, set[tuple[str, int | None, str | None]]] = {}
    for row in rows:
        outcomes.setdefault(row.inbox, set()).add((row.state, row.last_status, row.last_error))
    return outcomes


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(30)
async def test_fetches_from_bad_peers_fail_fast_and_small_beside_a_healthy_one(
    node: Node, peers: dict[str, Peer]
) -> None:
    http = FederationHttp(node.settings, total_timeout=REQUEST_TIMEOUT)
    await http.start()
    try:
        async def fetch(peer: Peer) -> Any:
            try:
                return await fetch_document(http, peer.document, signer=None)
            except FetchError as exc:
                return exc

        results, used = await bounded(asyncio.gather(*(fetch(peer) for peer in peers.values())))
    finally:
        await http.close()

    assert used.peak_bytes < MEMORY_BOUND, used
    by_fault = dict(zip(peers, results, strict=True))
    healthy = by_fault.pop("healthy")
    assert not isinstance(healthy, FetchError) and healthy.document["type"] == "Note"
    reasons = {fault: getattr(result, "reason", result) for fault, result in by_fault.items()}
    assert reasons == {
        "slow": "timeout", "trickle": "timeout", "hang": "timeout", "garbage": "connection",
        "redirect-loop": "too-many-redirects", "huge": "too-large", "huge-gzip": "too-large",
        "reset": "connection",
    }
    # Each failure is one the caller can act on: 504 for a timeout, 502 otherwise.
    assert {fault: result.status for fault, result in by_fault.items()} == {
        fault: 504 if reason == "timeout" else 502 for fault, reason in reasons.items()}
    assert peers["huge"].body_bytes_sent < HUGE_BODY_BYTES
