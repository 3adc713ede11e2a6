"""The inbox's batch write on SQLite: statements on the loop, the commit in a thread.

Through aiosqlite, the inbox's transaction (begin, read the batch's host
policies, insert, queue jobs, commit) was five hand-offs between the event
loop and the connection's thread, each continuation queued behind every
request the loop had waiting. Run whole in a thread, it still handed the GIL
back and forth a few dozen times a batch (sqlite3 lets it go around every
step), and each hand-off cost both threads a wake-up.

So the statements run right here, on the loop's thread: with the write lock
held they only touch SQLite's page cache, a few microseconds an activity.
What can take long happens in this connection's own thread, in one call that
holds no GIL while it waits: the commit (the WAL write and its fsync), and
waiting for another process's write lock, which the loop never does
(``busy_timeout`` is 0 on this connection; a busy ``BEGIN`` is retried in the
thread, with the usual timeout). The caller holds the storage's write lock
throughout, so this never overlaps another write of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from node.storage.queries.queue import (
    admitted_arrivals,
    arrival_jobs,
    arrival_results,
    arrivals_statement,
    host_policies_statement,
    jobs_statement,
    policies_by_host,
    seqs_in_order,
)
from node.storage.records import ArrivingActivity, HostScreen

T = TypeVar("T")
Stored = tuple[list[int | None], bool]
"""Each arrival's answer (see ``QueueQueries.store_arrivals``), and whether jobs were queued."""

#: SQLITE_BUSY: another process holds the write lock.
_BUSY = 5


class ArrivalWriter:
    """One connection, used from the loop and from one thread of its own in turn."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], busy_timeout_ms: int
    ) -> None:
        self._connect = connect
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kula-arrivals")

    async def store(
        self, arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str
    ) -> Stored:
        connection = self._opened()
        await self._begin(connection)
        try:
            stored = _write(arrivals, screen, job_kind, connection)
            await self.run(_commit)
        except BaseException:
            # SQLite may have rolled back already (some I/O errors do).
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        return stored

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in the writer's thread; the caller holds the write lock."""
        connection = self._opened()
        future = asyncio.get_running_loop().run_in_executor(self._thread, work, connection)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The caller's write lock must outlast what the thread does with the database.
            await asyncio.wait([future])
            raise

    async def close(self) -> None:
        if self._connection is not None:
            await self.run(sqlite3.Connection.close)
            self._connection = None
        self._thread.shutdown(wait=True)

    def _opened(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._connect()
            self._connection.execute("PRAGMA busy_timeout = 0")
        return self._connection

    async def _begin(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _BUSY:
                raise
            await self.run(self._begin_waiting)

    def _begin_waiting(self, connection: sqlite3.Connection) -> None:
        connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        try:
            connection.execute("BEGIN IMMEDIATE")
        finally:
            connection.execute("PRAGMA busy_timeout = 0")


def _write(
    arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str,
    connection: sqlite3.Connection,
) -> Stored:
    hosts = sorted({item.host for item in arrivals})
    policies = policies_by_host(connection.execute(*host_policies_statement(hosts)))
    admitted = admitted_arrivals(arrivals, screen, policies)
    seqs: list[int | None] = []
    if admitted:
        rows = connection.execute(*arrivals_statement(admitted)).fetchall()
        seqs = seqs_in_order([item.iri for item in admitted], rows)
    jobs = arrival_jobs(admitted, seqs)
    if jobs:
        connection.execute(*jobs_statement(job_kind, jobs, arrivals[0].received_at))
    return arrival_results(arrivals, admitted, seqs), bool(jobs)


def _commit(connection: sqlite3.Connection) -> None:
    connection.execute("COMMIT")
