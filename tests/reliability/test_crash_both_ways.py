"""SIGKILL a node while it both sends and receives a burst, then count on
each receiving side.

Node A (``kula serve`` with its workers) and node B (in this process) follow
each other. A's member posts a burst, which A delivers to B; B's member posts
a burst, which B delivers to A. A is killed with deliveries of its own held
unanswered by B and B's deliveries in flight to it, its workers perhaps in
the middle of processing those it accepted. After A restarts and both queues
drain:

* every activity was accepted (202) by its receiver exactly once, and every
  repeated POST was a row the sender had in flight when A died, answered 409;
* every accepted activity was processed exactly once (one inbox row, outcome
  ``applied``, one finished job, its listing found once by search).

Requests are counted by their ``Digest`` header, which names the exact body.
(tests/federation/test_crash.py kills a sender or a receiver alone.)
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from node.app import create_app
from node.federation.delivery import DeliveryWorker, set_worker
from node.workers.runner import run_jobs
from protocol.httpsig.digest import make_digest_header
from tests.federation.harness import settle
from tests.federation.procs import (
    Api,
    GatedNode,
    Handler,
    ServedNode,
    check_sent_once,
    db_rows,
    follow,
    lapse_claims,
    queue_drained,
    wait_until,
)
from tests.federation.test_crash import SteppedClock

ISSUE = "Kula reliability issue: SIGKILL during a burst of deliveries and inbound activities"
BURST = 30


def titled(word: str, number: int) -> dict[str, Any]:
    return {"purpose": "offer", "mode": "lend", "title": f"{word} {number:03d}",
            "description": "Made in a crossing burst.", "categories": ["tools"]}


@dataclass
class Answers:
    """HTTP statuses per request body digest: what one side answered (or, for
    a request that never got an answer, "error")."""

    by_digest: defaultdict[str, list[int | str]] = field(
        default_factory=lambda: defaultdict(list))

    def add(self, digest: str | None, status: int | str) -> None:
        assert digest is not None, "a delivery without a Digest header"
        self.by_digest[digest].append(status)


class CountingNode(GatedNode):
    """B: an in-process node whose inbox answers are counted, then gated."""

    answers: Answers

    async def start(self) -> CountingNode:
        self.answers = Answers()
        app = create_app(self.settings, run_workers=False)
        # Outermost, so it sees every answer as sent, problem documents included.
        app.middlewares.insert(0, self._count)
        app.middlewares.append(self.gate.middleware)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession(base_url=self.url)
        return self

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.method == "POST" and request.path.endswith("/inbox"):
            self.answers.add(request.headers.get("Digest"), response.status)
        return response


class KillingCounter:
    """B's delivery client: counts A's answers, and SIGKILLs A at its
    ``kill_at``-th 202 while B's other requests are still in flight."""

    def __init__(self, a: ServedNode, kill_at: int | None) -> None:
        self.a, self.kill_at, self.accepted = a, kill_at, 0
        self.answers = Answers()
        self.config = aiohttp.TraceConfig()
        self.config.on_request_end.append(self._end)
        self.config.on_request_exception.append(self._failed)

    async def _end(self, session: aiohttp.ClientSession, context: SimpleNamespace,
                   params: aiohttp.TraceRequestEndParams) -> None:
        self.answers.add(params.headers.get("Digest"), params.response.status)
        if params.response.status == 202:
            self.accepted += 1
            if self.accepted == self.kill_at:
                await self.a.kill()

    async def _failed(self, session: aiohttp.ClientSession, context: SimpleNamespace,
                      params: aiohttp.TraceRequestExceptionParams) -> None:
        self.answers.add(params.headers.get("Digest"), "error")


async def _digests(database: Path, actor: str) -> dict[str, str]:
    """Each Create of ``actor`` by the digest of the body its node delivers."""
    rows = await db_rows(database, "SELECT iri, document FROM activities"
                         " WHERE type = 'Create' AND actor_iri = ?", (actor,))
    return {make_digest_header(json.dumps(json.loads(row["document"]), ensure_ascii=False,
                                          separators=(",", ":")).encode()): row["iri"]
            for row in rows}


async def _titles(api: Api, word: str) -> Counter[str]:
    status, body = await api("GET", f"/api/v1/search?q={word}&status=any&limit=100")
    assert status == 200 and body["next_cursor"] is None, body
    return Counter(item["title"] for item in body["items"])


async def _processed_once(database: Path, api: Api, actor: str, creates: set[str],
                          word: str) -> None:
    rows = await db_rows(database, "SELECT iri, outcome FROM inbox_activities"
                         " WHERE type = 'Create' AND actor_iri = ?", (actor,))
    assert Counter(row["iri"] for row in rows) == Counter(creates)
    assert {row["outcome"] for row in rows} == {"applied"}
    jobs = await db_rows(database, "SELECT state, count(*) AS n FROM jobs"
                         " WHERE kind = 'inbox' GROUP BY state")
    stored = await db_rows(database, "SELECT count(*) FROM inbox_activities")
    assert {row["state"]: row["n"] for row in jobs} == {"done": stored[0][0]}
    assert await _titles(api, word) == Counter(titled(word, n)["title"] for n in range(BURST))


def _accepted_once(answers: Answers, digests: dict[str, str], in_flight: set[str]) -> None:
    """Each activity was accepted once: one 202, or, for a row in flight when
    A died (stored, the answer lost), a 409 when it came again. Only such rows
    were sent again; a repeat met a 409, or no answer while A was down."""
    assert set(answers.by_digest) == set(digests), "a request for an unknown body"
    for digest, statuses in answers.by_digest.items():
        iri = digests[digest]
        if len(statuses) == 1:
            assert statuses == [202], (iri, statuses)
            continue
        assert iri in in_flight, (iri, statuses)
        assert statuses.count(202) <= 1 and set(statuses) - {202} <= {409, "error"}, statuses
        assert statuses.count(202) == 1 or 409 in statuses, (iri, statuses)


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(60)
async def test_node_killed_while_sending_and_receiving_loses_and_doubles_nothing(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    a = ServedNode("a", tmp_path)
    b = CountingNode("b", tmp_path / "b")
    cleanup.push_async_callback(a.close)
    cleanup.push_async_callback(b.stop)
    cleanup.callback(b.gate.open)
    await a.init()
    alice = await a.member("alice")
    await a.serve()
    await b.start()
    bob = await b.member("bob")
    await follow(b.api, bob, f"alice@{a.host}", lambda: settle(b))
    await follow(a.api, alice, f"bob@{b.host}", lambda: settle(b))
    b_database = b.data_dir / "kula.sqlite3"
    clock = SteppedClock()
    worker = DeliveryWorker(clock=clock)
    set_worker(b.ctx, worker)
    b.answers.by_digest.clear()  # count from the bursts on

    # B stores A's deliveries but, after the first few, holds its answers.
    b.gate.arm(pass_first=BURST // 4)
    for number in range(BURST):
        status, body = await a.api("POST", "/api/v1/listings", alice,
                                   json=titled("Outkit", number))
        assert status == 201, body
        status, body = await b.api("POST", "/api/v1/listings", bob,
                                   json=titled("Inkit", number))
        assert status == 201, body
    while await run_jobs(b.ctx):
        pass  # B fans out its burst (and processes what A got through)
    await b.gate.wait_holding(within=20)
    # B sends its burst; A dies at its third 202, with B's next requests in flight.
    killer = KillingCounter(a, kill_at=3)
    async with aiohttp.ClientSession(trace_configs=[killer.config]) as session:
        await worker.run_once(b.ctx, session)
        assert a.server is not None and a.server.process is None, "A was not killed"
        b.gate.open()
        a_claimed = {row["activity_iri"] for row in await db_rows(
            a.database, "SELECT activity_iri FROM deliveries WHERE state = 'sending'")}
        b_claimed = {row["activity_iri"] for row in await db_rows(
            b_database, "SELECT activity_iri FROM deliveries WHERE state = 'retrying'"
            " AND last_status IS NULL")}
        assert a_claimed and b_claimed
        await lapse_claims(a.database)
        await a.serve()

        async def both_drained() -> bool:
            clock.offset += timedelta(hours=1)  # past every backoff and breaker
            while await run_jobs(b.ctx):
                pass
            await worker.run_once(b.ctx, session)
            return await queue_drained(a.database) and await queue_drained(b_database)

        await wait_until(both_drained, within=30, what="both nodes to finish their bursts")

    # One delivery row per activity, each delivered, on both sides.
    await check_sent_once(a.database, a.actor("alice"))
    await check_sent_once(b_database, b.actor("bob"))
    a_digests = await _digests(a.database, a.actor("alice"))
    b_digests = await _digests(b_database, b.actor("bob"))
    assert len(a_digests) == len(b_digests) == BURST
    _accepted_once(b.answers, a_digests, a_claimed)
    _accepted_once(killer.answers, b_digests, b_claimed)
    await _processed_once(b_database, b.api, a.actor("alice"), set(a_digests.values()),
                          "Outkit")
    await _processed_once(a.database, a.api, b.actor("bob"), set(b_digests.values()), "Inkit")
