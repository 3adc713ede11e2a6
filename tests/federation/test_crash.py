"""SIGKILL at the worst moment: a sender mid-burst, a receiver mid-burst, a
backup and a migration. Real ``kula`` processes, real HTTP on loopback; what
survives is read from the databases they leave behind."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from node.backup import restore_backup
from node.federation.delivery import DeliveryWorker, set_worker
from node.storage.sqlite import migration_files
from node.timeutil import utc_now
from node.workers.runner import run_jobs
from tests.federation.harness import Node, settle
from tests.federation.procs import (
    GatedNode,
    ServedNode,
    check_received_once,
    check_sent_once,
    db_rows,
    integrity,
    lapse_claims,
    listing,
    queue_drained,
    run_kula,
    wait_until,
)

BURST = 40


async def follow(
    api: Callable[..., Awaitable[tuple[int, Any]]], token: str, target: str,
    step: Callable[[], Awaitable[object]],
) -> None:
    """Follow ``target`` and wait for the Accept; ``step`` drives the in-process node."""
    status, body = await api("POST", "/api/v1/follows", token, json={"target": target})
    assert status == 201, body

    async def accepted() -> bool:
        await step()
        _, following = await api("GET", "/api/v1/following", token)
        return [item["state"] for item in following["items"]] == ["accepted"]

    await wait_until(accepted, timeout=20, what=f"{target} to accept the follow")


@pytest.mark.spec("Kula delivery: crash recovery (sender)")
@pytest.mark.timeout(60)
async def test_sender_killed_mid_burst_delivers_every_activity_once(tmp_path: Path) -> None:
    a = ServedNode("a", tmp_path)
    b = GatedNode("b", tmp_path / "b")
    await a.init()
    alice = await a.member("alice")
    await a.serve()
    await b.start()
    try:
        bob = await b.member("bob")
        await follow(b.api, bob, f"alice@{a.host}", lambda: settle(b))

        # The receiver answers the first deliveries, then stores the next ones
        # without answering: the sender dies with them in flight.
        b.gate.arm(pass_first=BURST // 4)
        for number in range(BURST):
            status, body = await a.api("POST", "/api/v1/listings", alice, json=listing(number))
            assert status == 201, body
        await b.gate.wait_holding(timeout=20)
        await a.kill()
        b.gate.open()
        claimed = await lapse_claims(a.database)
        assert claimed["deliveries"] >= len(b.gate.held) >= 1

        await a.serve()
        await wait_until(lambda: queue_drained(a.database), timeout=30,
                         what="the restarted sender to empty its queue")
        await settle(b)
        creates, deliveries = await check_sent_once(a.database, a.actor("alice"))
        await check_received_once(b.data_dir / "kula.sqlite3", b.api, creates,
                                  [listing(n)["title"] for n in range(BURST)])
        # What the receiver held was stored before the crash: the resend met a 409.
        resent = {row["activity_iri"]: row for row in deliveries}
        for activity_iri in b.gate.held:
            assert (resent[activity_iri]["last_status"], resent[activity_iri]["attempts"]) == (
                409, 2)
    finally:
        b.gate.open()
        await a.close()
        await b.stop()


class KillReceiverAfter:
    """A client trace hook that SIGKILLs the receiver as soon as it has
    answered ``answers`` deliveries with 202, other deliveries still in flight."""

    def __init__(self, receiver: ServedNode, answers: int) -> None:
        self.receiver, self.answers, self.answered = receiver, answers, 0
        self.config = aiohttp.TraceConfig()
        self.config.on_request_end.append(self._on_request_end)

    async def _on_request_end(
        self, session: aiohttp.ClientSession, context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status != 202:
            return
        self.answered += 1
        if self.answered == self.answers:
            await self.receiver.kill()


@pytest.mark.spec("Kula inbox: crash recovery (receiver)")
@pytest.mark.timeout(60)
async def test_receiver_killed_mid_burst_processes_every_accepted_activity_once(
    tmp_path: Path,
) -> None:
    a = Node("a", tmp_path / "a")
    b = ServedNode("b", tmp_path)
    await b.init()
    bob = await b.member("bob")
    await a.start()
    await b.serve()
    offset = timedelta(0)
    # The sender's delivery clock: moved forward instead of waiting out backoffs.
    worker = DeliveryWorker(clock=lambda: utc_now() + offset)
    set_worker(a.ctx, worker)
    try:
        alice = await a.member("alice")
        await follow(b.api, bob, f"alice@{a.host}", lambda: settle(a))
        titles = [listing(number)["title"] for number in range(BURST)]
        for number in range(BURST):
            status, body = await a.api("POST", "/api/v1/listings", alice, json=listing(number))
            assert status == 201, body
        while await run_jobs(a.ctx):
            pass  # fan-out only: every delivery row is queued, none sent

        killer = KillReceiverAfter(b, answers=BURST // 2)
        async with aiohttp.ClientSession(trace_configs=[killer.config]) as session:
            await worker.run_once(a.ctx, session)
        sent = await db_rows(a.data_dir / "kula.sqlite3",
                             "SELECT activity_iri, state FROM deliveries WHERE last_status = 202")
        answered = {row["activity_iri"] for row in sent}
        retrying = await db_rows(a.data_dir / "kula.sqlite3",
                                 "SELECT id FROM deliveries WHERE state = 'retrying'")
        assert len(answered) >= BURST // 2 and retrying, "the receiver died mid-burst"

        await lapse_claims(b.database)
        await b.serve()
        offset = timedelta(hours=1)  # past every backoff and the breaker's cool-down
        await settle(a)

        async def all_processed() -> bool:
            rows = await db_rows(b.database, "SELECT count(*) FROM inbox_activities"
                                 " WHERE type = 'Create' AND outcome IS NOT NULL")
            return rows[0][0] == BURST

        await wait_until(all_processed, timeout=30, what="the receiver to process the burst")
        creates, _ = await check_sent_once(a.data_dir / "kula.sqlite3", a.actor("alice"))
        assert answered <= set(creates)
        await check_received_once(b.database, b.api, creates, titles)
        # One inbox job per stored activity, each run to completion.
        stored = await db_rows(b.database, "SELECT count(*) FROM inbox_activities")
        jobs = await db_rows(b.database, "SELECT state, count(*) AS n FROM jobs"
                             " WHERE kind = 'inbox' GROUP BY state")
        assert {row["state"]: row["n"] for row in jobs} == {"done": stored[0][0]}
    finally:
        await b.close()
        await a.stop()
