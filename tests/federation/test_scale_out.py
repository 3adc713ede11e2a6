"""Scale-out on PostgreSQL: web and worker processes sharing one database.

Node A runs as two ``kula serve --no-workers`` processes and two ``kula
worker`` processes on one fresh PostgreSQL database; an in-process node B
follows its member. A burst of listings goes through both web processes, one
worker is SIGKILLed while B holds requests it sent, and every Create still
reaches B exactly once. The first tests check the wake-ups that let idle
workers sleep until work is queued.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from node.storage import sqlite as sqlite_backend
from node.storage.notify import WORK_CHANNEL, WakeUps
from node.storage.postgres import PostgresStorage
from node.storage.sqlite import SqliteStorage
from tests.federation.harness import free_port, settle
from tests.federation.procs import (
    LONG_AGO,
    PENDING_DELIVERY_STATES,
    PENDING_JOB_STATES,
    Handler,
    InboxGate,
    KulaProcess,
    check_received_once,
    db_rows,
    follow,
    listing,
    sender_and_gated_receiver,
    wait_until,
)

NOW = "2030-01-01T00:00:00Z"
#: Listings in the burst; the worker dies after the first half is posted.
BURST = 60
#: Deliveries B answers before it starts holding its answers.
ANSWERED_BEFORE_HOLDING = 10
#: Bounds a wait for something that normally takes milliseconds.
SIGNAL_WITHIN = 10.0



# --- wake-ups -----------------------------------------------------------------------------


@pytest.mark.spec("Kula scale-out: worker wake-ups")
async def test_wakeups_keep_a_signal_for_a_busy_waiter() -> None:
    wakeups = WakeUps()
    assert await wakeups.wait(0) is False  # registers this task; nothing pending
    wakeups.notify()  # arrives while the task is "busy"
    assert await wakeups.wait(SIGNAL_WITHIN) is True
    assert await wakeups.wait(0) is False  # consumed


@pytest.mark.spec("Kula scale-out: worker wake-ups")
async def test_sqlite_wakes_its_own_waiters_on_commit_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the poll cap, only a wake-up can end the wait in time.
    monkeypatch.setattr(sqlite_backend, "POLL_SECONDS", 60.0)
    storage = SqliteStorage(tmp_path / "kula.sqlite3")
    await storage.open()
    try:
        assert await storage._wakeups.wait(0) is False
        with pytest.raises(LookupError):
            async with storage.transaction() as tx:
                await tx.enqueue_job("test", {}, NOW)
                raise LookupError("rolled back")
        assert await storage._wakeups.wait(0) is False

        waiter = asyncio.create_task(storage.wait_for_work(60.0))
        await asyncio.sleep(0)  # let the waiter start waiting
        async with storage.transaction() as tx:
            await tx.enqueue_job("test", {}, NOW)
        async with asyncio.timeout(SIGNAL_WITHIN):
            await waiter
    finally:
        await storage.close()


async def _notifications(url: str) -> tuple[asyncpg.Connection, list[str]]:
    """A bare listener on the work channel, collecting payloads."""
    received: list[str] = []
    connection = await asyncpg.connect(url)
    await connection.add_listener(WORK_CHANNEL, lambda *args: received.append(args[3]))
    return connection, received


@pytest.mark.spec("Kula scale-out: worker wake-ups")
async def test_postgres_notifies_once_per_committed_transaction(postgres_url: str) -> None:
    storage = PostgresStorage(postgres_url)
    await storage.open()
    listener, received = await _notifications(postgres_url)
    try:
        with pytest.raises(LookupError):
            async with storage.transaction() as tx:
                await tx.enqueue_job("test", {}, NOW)
                raise LookupError("rolled back")
        async with storage.transaction() as tx:
            await tx.enqueue_job("test", {}, NOW)
            await tx.enqueue_job("test", {}, NOW)
            await tx.insert_deliveries(
                "https://a.example/act/1", "https://a.example/u/a",
                [("https://b.example/inbox", "b.example")], NOW,
            )
        async with storage.transaction() as tx:
            # Already queued: nothing new, nothing announced.
            await tx.insert_deliveries(
                "https://a.example/act/1", "https://a.example/u/a",
                [("https://b.example/inbox", "b.example")], NOW,
            )
            await tx.enqueue_job("last", {}, NOW)
        # Notifications arrive in commit order: once the last one is here,
        # any earlier one (the rollback's) would be too.
        await wait_until(lambda: len(received) >= 2, within=SIGNAL_WITHIN,
                         what="the committed transactions' notifications")
        assert received == ["", ""]
    finally:
        await listener.close()
        await storage.close()


@pytest.mark.spec("Kula scale-out: worker wake-ups")
async def test_postgres_wakes_a_waiter_in_another_process(postgres_url: str) -> None:
    # Two storages with their own pools and listener: as two processes would.
    worker_side, web_side = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
    await worker_side.open()
    await web_side.open()
    try:
        async with asyncio.timeout(SIGNAL_WITHIN):
            await worker_side.wait_for_work(60.0)  # starts listening and returns to look
        waiter = asyncio.create_task(worker_side.wait_for_work(60.0))
        await asyncio.sleep(0)  # let the waiter start waiting
        async with web_side.transaction() as tx:
            await tx.enqueue_job("test", {}, NOW)
        async with asyncio.timeout(SIGNAL_WITHIN):
            await waiter
    finally:
        await web_side.close()
        await worker_side.close()


# --- two web processes, two workers, one database -----------------------------------------


class TrackingGate(InboxGate):
    """An :class:`InboxGate` that also counts, per client port, the inbox
    requests B has stored (answered 202) but not yet answered on the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.stored_unanswered: Counter[int] = Counter()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        port = int(peer[1]) if peer else 0
        stored = False

        async def observed(request: web.Request) -> web.StreamResponse:
            nonlocal stored
            response = await handler(request)
            stored = request.method == "POST" and request.path.endswith("/inbox") and (
                response.status == 202)
            if stored:
                self.stored_unanswered[port] += 1
            return response

        try:
            return await super().middleware(request, observed)
        finally:
            if stored:
                self.stored_unanswered[port] -= 1

    def held_from(self, ports: set[int]) -> int:
        return sum(count for port, count in self.stored_unanswered.items() if port in ports)


def tcp_ports_of(pid: int) -> set[int]:
    """Local ports of a process's TCP sockets (Linux ``/proc``): which
    connections B sees are a given worker's."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue  # closed since listed
        if target.startswith("socket:["):
            inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            columns = line.split()
            if columns[9] in inodes:
                ports.add(int(columns[1].rsplit(":", 1)[1], 16))
    return ports


async def pg_rows(url: str, sql: str, *params: Any) -> list[asyncpg.Record]:
    """Read A's database from outside its processes."""
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(sql, *params))
    finally:
        await connection.close()


async def pg_queue_drained(url: str) -> bool:
    rows = await pg_rows(
        url,
        "SELECT (SELECT count(*) FROM deliveries WHERE state = ANY($1::text[]))"
        " + (SELECT count(*) FROM jobs WHERE state = ANY($2::text[]))",
        list(PENDING_DELIVERY_STATES), list(PENDING_JOB_STATES),
    )
    return rows[0][0] == 0


async def pg_lapse_claims(url: str) -> dict[str, int]:
    """Make every claim due now, as if its two-minute lock had run out.

    Safe while one worker lives: a worker claims its next batch only after
    recording the outcome of every row of the last one, so it never takes
    back a row it still holds; the rows it finds are the dead worker's.
    """
    connection = await asyncpg.connect(url)
    try:
        lapsed = {}
        for table, claimed_state in (("deliveries", "sending"), ("jobs", "running")):
            status = await connection.execute(
                f"UPDATE {table} SET locked_until = $1 WHERE state = $2", LONG_AGO, claimed_state
            )
            lapsed[table] = int(status.rsplit(" ", 1)[1])
        return lapsed
    finally:
        await connection.close()


async def applied_creates(database: Path) -> int:
    rows = await db_rows(database, "SELECT count(*) FROM inbox_activities"
                         " WHERE type = 'Create' AND outcome = 'applied'")
    return int(rows[0][0])


@pytest.mark.spec("Kula scale-out: shared PostgreSQL, SKIP LOCKED claims and lock expiry")
@pytest.mark.skipif(sys.platform != "linux", reason="tells workers' connections apart by /proc")
@pytest.mark.timeout(85)
async def test_two_web_processes_and_two_workers_deliver_each_listing_once(
    tmp_path: Path, postgres_url: str, cleanup: AsyncExitStack
) -> None:
    gate = TrackingGate()
    a, b = sender_and_gated_receiver(tmp_path, cleanup, gate)
    await a.init()
    with (a.data_dir / "kula.toml").open("a", encoding="utf-8") as config:
        config.write(f'database_url = "{postgres_url}"\n')
    alice = await a.member("alice")  # migrates the database and makes the node's keys

    # A's public URL is the first web process; the second serves the same community.
    second_port = free_port()
    second_web = KulaProcess(
        ("serve", "--data", str(a.data_dir), "--port", str(second_port), "--no-workers"),
        tmp_path / "a-web2.log", "Kula is serving",
    )
    cleanup.push_async_callback(second_web.kill)
    second_session = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{second_port}")
    cleanup.push_async_callback(second_session.close)
    await asyncio.gather(
        a.serve(workers=False), second_web.start(), a.start_worker(), a.start_worker()
    )
    assert a.server is not None

    async def post_listing(number: int) -> None:
        body = listing(number)
        if number % 2:
            status, created = await a.api("POST", "/api/v1/listings", alice, json=body)
        else:
            async with second_session.post(
                "/api/v1/listings", json=body, headers={"Authorization": f"Bearer {alice}"}
            ) as response:
                status, created = response.status, await response.json()
        assert status == 201, created
        assert created["iri"].startswith(a.url + "/")

    await b.start()
    bob = await b.member("bob")
    await follow(b.api, bob, f"alice@{a.host}", lambda: settle(b))

    # First half of the burst; B answers a few, then holds its answers, so the
    # workers have requests in flight whose activities B has already stored.
    gate.arm(pass_first=ANSWERED_BEFORE_HOLDING)
    for number in range(1, BURST // 2 + 1):
        await post_listing(number)
    victim, survivor = a.workers
    assert victim.process is not None and survivor.process is not None

    async def victim_has_requests_held() -> bool:
        return gate.held_from(tcp_ports_of(victim.process.pid)) > 0

    # Whichever worker B is holding requests from dies.
    await wait_until(lambda: gate.held > 0, within=20, what="B to hold an answer")
    if not await victim_has_requests_held():
        victim, survivor = survivor, victim
    await wait_until(victim_has_requests_held, within=5, what="a worker's request to be held")
    held_from_victim = gate.held_from(tcp_ports_of(victim.process.pid))
    received = await db_rows(b.data_dir / "kula.sqlite3",
                             "SELECT count(*) FROM inbox_activities WHERE type = 'Create'")
    assert ANSWERED_BEFORE_HOLDING <= received[0][0] < BURST
    await victim.kill()
    gate.open()
    lapsed = await pg_lapse_claims(postgres_url)
    assert lapsed["deliveries"] >= held_from_victim

    for number in range(BURST // 2 + 1, BURST + 1):
        await post_listing(number)

    async def everything_arrived() -> bool:
        await settle(b)
        return await applied_creates(b.data_dir / "kula.sqlite3") >= BURST and (
            await pg_queue_drained(postgres_url))

    await wait_until(everything_arrived, within=40, what="the survivor to finish the burst")
    assert survivor.process is not None and survivor.process.returncode is None

    creates = [row["iri"] for row in await pg_rows(
        postgres_url, "SELECT iri FROM activities WHERE type = 'Create' AND actor_iri = $1",
        a.actor("alice"),
    )]
    assert len(creates) == BURST
    deliveries = await pg_rows(postgres_url, "SELECT * FROM deliveries")
    assert [dict(row) for row in deliveries if row["state"] != "delivered"] == []
    assert sorted(row["activity_iri"] for row in deliveries
                  if row["activity_iri"] in creates) == sorted(creates)
    jobs = await pg_rows(postgres_url, "SELECT state, count(*) FROM jobs GROUP BY state")
    assert {row["state"]: row["count"] for row in jobs}.keys() == {"done"}
    # B stored what the dead worker sent but never heard back: the survivor
    # sent those again once their locks lapsed, and B answered "already had it".
    resent = [row for row in deliveries if row["last_status"] == 409]
    assert len(resent) >= held_from_victim
    assert {row["attempts"] for row in resent} == {2}
    await check_received_once(b.data_dir / "kula.sqlite3", b.api, creates,
                              [listing(number)["title"] for number in range(1, BURST + 1)])
