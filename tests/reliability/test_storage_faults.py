"""A database that cannot take writes: its disk fails or fills, or it is
read-only. Writes, the inbox's included, answer a 503 problem with
Retry-After; reads go on; nothing half-written is left behind; a peer's
deliveries wait and arrive; and the node recovers by itself once the storage
does.

The disk fault is real (the kernel refuses the node's file writes, see
:mod:`tests.reliability.disk`); read-only is SQLite's ``query_only`` and
PostgreSQL's ``default_transaction_read_only``, which fail a write with the
same codes as a read-only file or a hot standby.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from node.errors import StorageUnavailable
from node.federation.delivery import DeliveryWorker, set_worker
from node.storage.postgres import PostgresStorage, translate_error
from node.storage.sqlite import SqliteStorage
from tests.backends import fresh_database
from tests.federation.harness import Node, settle
from tests.federation.procs import (
    TITLE_WORD,
    Api,
    db_rows,
    follow,
    integrity,
    lapse_claims,
    listing,
    queue_drained,
    search_titles,
    wait_until,
)
from tests.federation.test_crash import SteppedClock
from tests.reliability.disk import FailingDiskNode

ISSUE = "Kula reliability issue: disk full or read-only database"
PROBLEM_JSON = "application/problem+json"


async def _storage_exec(storage: SqliteStorage | PostgresStorage, sql: str) -> None:
    async with storage.transaction() as tx:
        await tx._exec(sql)


async def _writer_pragma(storage: SqliteStorage, pragma: str) -> None:
    """Set a pragma on the storage's writing connections (the general one and
    the inbox's), outside any transaction (a read-only connection cannot even
    begin one): reaching into the backend is for tests only."""
    assert storage._writer is not None and storage._arrivals is not None
    await storage._writer.execute(f"PRAGMA {pragma}")
    await storage._arrivals.run(lambda connection: connection.execute(f"PRAGMA {pragma}"))


# --- the storage layer ------------------------------------------------------------------


@pytest.mark.spec(ISSUE)
async def test_sqlite_full_and_read_only_are_unavailable_but_bugs_are_not(
    tmp_path: Path,
) -> None:
    storage = SqliteStorage(tmp_path / "kula.sqlite3")
    await storage.open()
    try:
        # A full disk: the database may not grow by one page more.
        async with storage.read() as session:
            pages = (await session._one("PRAGMA page_count"))[0]  # type: ignore[index]
        await _writer_pragma(storage, f"max_page_count = {pages}")
        with pytest.raises(StorageUnavailable) as full:
            await _storage_exec(storage, "CREATE TABLE filler AS SELECT randomblob(100000) AS b")
        assert full.value.detail.startswith("the database's disk is full (SQLITE_FULL)")
        assert full.value.extensions["retry_after"] == StorageUnavailable.retry_after
        await _writer_pragma(storage, "max_page_count = 1000000")

        await _writer_pragma(storage, "query_only = ON")
        with pytest.raises(StorageUnavailable) as read_only:
            await _storage_exec(storage, "UPDATE members SET summary = 'x'")
        assert read_only.value.detail.startswith("the database is read-only (SQLITE_READONLY)")
        await _writer_pragma(storage, "query_only = OFF")

        # An error whose message merely mentions a disk is still a bug: raised as is.
        for statement in ("SELECT disk_full FROM members", "SELECT 1 FROM read_only_locked"):
            with pytest.raises(sqlite3.OperationalError):
                await _storage_exec(storage, statement)
            with pytest.raises(sqlite3.OperationalError):
                async with storage.read() as session:
                    await session._one(statement)
        # Space came back: the same storage writes again.
        await _storage_exec(storage, "CREATE TABLE filler AS SELECT randomblob(100000) AS b")
        async with storage.read() as session:
            assert (await session._one("PRAGMA integrity_check"))[0] == "ok"  # type: ignore[index]
    finally:
        await storage.close()


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (asyncpg.exceptions.DiskFullError("could not extend file"), "disk is full"),
        (asyncpg.exceptions.ReadOnlySQLTransactionError("read-only transaction"), "read-only"),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), "cannot serve"),
    ],
)
def test_postgres_disk_full_and_read_only_states_are_unavailable(
    error: asyncpg.PostgresError, reason: str
) -> None:
    unavailable = translate_error(error)
    assert unavailable is not None and reason in unavailable.detail
    assert unavailable.status == 503 and unavailable.extensions["retry_after"] > 0
    assert translate_error(asyncpg.exceptions.UndefinedColumnError("disk_full")) is None


# --- a served node whose disk fails -----------------------------------------------------


async def _write(api: Api, token: str, number: int) -> int:
    status, body = await api("POST", "/api/v1/listings", token, json=listing(number))
    assert status in (201, 503), body
    return status


async def check_unavailable(
    session: aiohttp.ClientSession, method: str, path: str, token: str | None, **kwargs: Any
) -> dict[str, Any]:
    """Assert the request is refused with a retryable storage problem; return it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, path, headers=headers, **kwargs) as response:
        body = await response.json(content_type=None)
        assert response.status == 503, body
        assert response.content_type == PROBLEM_JSON
        assert response.headers["Retry-After"] == str(StorageUnavailable.retry_after)
    assert body["type"].endswith("/storage-unavailable") and body["status"] == 503
    assert body["retry_after"] == StorageUnavailable.retry_after
    return body


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(60)
async def test_node_whose_disk_fails_answers_503_keeps_nothing_half_done_and_recovers(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    a = FailingDiskNode("a", tmp_path)
    b = Node("b", tmp_path / "b")
    cleanup.push_async_callback(a.close)
    cleanup.push_async_callback(b.stop)
    await a.init()
    alice = await a.member("alice")
    await a.serve()
    await b.start()
    bob = await b.member("bob")
    # Alice follows bob, so bob's listings are delivered to A's inbox.
    await follow(a.api, alice, f"bob@{b.host}", lambda: settle(b))
    clock = SteppedClock()
    set_worker(b.ctx, DeliveryWorker(clock=clock))
    assert a.session is not None
    acknowledged = [n for n in range(3) if await _write(a.api, alice, n) == 201]
    assert acknowledged == [0, 1, 2]
    _, first = await a.api("GET", f"/api/v1/search?q={TITLE_WORD}")
    listing_id = first["items"][0]["id"]

    a.fill_disk()
    for number in range(3, 6):
        problem = await check_unavailable(
            a.session, "POST", "/api/v1/listings", alice, json=listing(number)
        )
        assert problem["detail"].startswith("the database's storage failed (SQLITE_IOERR")
    await check_unavailable(a.session, "PATCH", f"/api/v1/listings/{listing_id}", alice,
                            json={"title": "Renamed while the disk was failing"})
    # Reads need no space.
    assert sorted(await search_titles(a.api)) == [listing(n)["title"] for n in acknowledged]
    status, shown = await a.api("GET", f"/api/v1/listings/{listing_id}")
    assert status == 200 and shown["title"].startswith(TITLE_WORD)
    # A peer's deliveries meet the same 503 and wait the Retry-After.
    bob_titles = []
    for number in (100, 101):
        status, body = await b.api("POST", "/api/v1/listings", bob, json=listing(number))
        assert status == 201, body
        bob_titles.append(listing(number)["title"])
    await settle(b)
    creates = [row["iri"] for row in await db_rows(
        b.data_dir / "kula.sqlite3",
        "SELECT iri FROM activities WHERE type = 'Create' AND actor_iri = ?", (b.actor("bob"),))]
    waiting = await _deliveries(b, creates)
    assert {(row["state"], row["last_status"], row["attempts"]) for row in waiting} == {
        ("retrying", 503, 1)}

    a.free_disk()
    # Jobs A's worker had claimed when the disk failed could not be handed back
    # (nothing could be written): their two-minute claims lapse, here at once,
    # and they run again. Safe while A runs: its one job loop runs a claimed
    # batch to its end before it claims again, so no lapsed job is still live.
    await lapse_claims(a.database)
    acknowledged += [n for n in range(6, 9) if await _write(a.api, alice, n) == 201]
    assert acknowledged == [0, 1, 2, 6, 7, 8]
    await _deliver_after_retry_after(b, clock=clock)
    assert {(row["state"], row["attempts"]) for row in await _deliveries(b, creates)} == {
        ("delivered", 2)}
    await wait_until(lambda: queue_drained(a.database), within=20,
                     what="A's workers to catch up once the disk is back")

    # Exactly what was acknowledged is there, once, and nothing that was refused.
    titles = [listing(n)["title"] for n in acknowledged] + bob_titles
    assert sorted(await search_titles(a.api)) == sorted(titles)
    status, shown = await a.api("GET", f"/api/v1/listings/{listing_id}")
    assert status == 200 and shown["title"].startswith(TITLE_WORD)
    received = await db_rows(a.database, "SELECT iri, outcome FROM inbox_activities"
                             " WHERE type = 'Create'")
    assert sorted((row["iri"], row["outcome"]) for row in received) == sorted(
        (iri, "applied") for iri in creates)
    assert await integrity(a.database) == "ok"


async def _deliver_after_retry_after(*nodes: Node, clock: SteppedClock) -> None:
    """Step the sender's clock past the Retry-After, and then past the probe
    wait of its host breaker (one request probes the host, the rest follow)."""
    for _ in range(3):
        clock.offset += timedelta(seconds=StorageUnavailable.retry_after + 1)
        await settle(*nodes)


async def _deliveries(node: Node, activity_iris: list[str]) -> list[sqlite3.Row]:
    marks = ", ".join("?" for _ in activity_iris)
    return await db_rows(node.data_dir / "kula.sqlite3",
                         f"SELECT * FROM deliveries WHERE activity_iri IN ({marks})",
                         activity_iris)


# --- a read-only database, on either backend --------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """``database_url`` for node A: SQLite's default, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    async with fresh_database() as url:
        yield url


async def _set_read_only(node: Node, url: str, read_only: bool) -> None:
    storage = node.ctx.storage
    if isinstance(storage, SqliteStorage):
        await _writer_pragma(storage, f"query_only = {'ON' if read_only else 'OFF'}")
        return
    assert isinstance(storage, PostgresStorage)
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("SET default_transaction_read_only = off")
        await admin.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]}"
                            f" SET default_transaction_read_only = {'on' if read_only else 'off'}")
    finally:
        await admin.close()
    # New sessions take the database's setting, as after a failover to a standby:
    # have the pool replace its connections (a private handle; a test only).
    assert storage._pool is not None
    await storage._pool.expire_connections()


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(40)
async def test_read_only_database_answers_503_until_it_is_writable_again(
    tmp_path: Path, cleanup: AsyncExitStack, backend_url: str
) -> None:
    a = Node("a", tmp_path / "a", overrides={"database_url": backend_url})
    b = Node("b", tmp_path / "b")
    cleanup.push_async_callback(a.stop)
    cleanup.push_async_callback(b.stop)
    await a.start()
    await b.start()
    alice, bob = await a.member("alice", scope="write"), await b.member("bob", scope="write")
    await follow(a.api, alice, f"bob@{b.host}", lambda: settle(a, b))
    clock = SteppedClock()
    set_worker(b.ctx, DeliveryWorker(clock=clock))
    assert a.session is not None

    await _set_read_only(a, backend_url, True)
    problem = await check_unavailable(a.session, "POST", "/api/v1/listings", alice,
                                      json=listing(1))
    assert problem["detail"].startswith("the database is read-only")
    status, body = await b.api("POST", "/api/v1/listings", bob, json=listing(2))
    assert status == 201, body
    await settle(b)
    (row,) = await db_rows(
        b.data_dir / "kula.sqlite3", "SELECT d.state, d.last_status FROM deliveries AS d"
        " JOIN activities AS x ON x.iri = d.activity_iri WHERE x.type = 'Create'")
    assert (row["state"], row["last_status"]) == ("retrying", 503)
    assert await search_titles(a.api) == []

    await _set_read_only(a, backend_url, False)
    assert await _write(a.api, alice, 3) == 201
    await _deliver_after_retry_after(a, b, clock=clock)
    assert sorted(await search_titles(a.api)) == [listing(n)["title"] for n in (2, 3)]
