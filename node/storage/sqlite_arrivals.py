"""The inbox's batch write on SQLite, in one trip to a thread of its own.

Through aiosqlite, the inbox's transaction (begin, read the batch's host
policies, insert, queue jobs, commit) is five hand-offs between the event
loop and the connection's thread, and each continuation waits its turn behind
every request the loop queued meanwhile. Under load the commits crept along at
the loop's pace and every request of a batch waited for them. Here the whole
transaction runs in one call on a connection of its own, while the loop goes
on authenticating the next requests. The caller holds the storage's write
lock for the duration, so this never overlaps another write of this process;
other processes meet ``BEGIN IMMEDIATE`` as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
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


class ArrivalWriter:
    """One thread and one connection, opened in that thread on first use."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._connection: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kula-arrivals")

    async def store(
        self, arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str
    ) -> Stored:
        return await self.run(partial(_store, arrivals, screen, job_kind))

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in the writer's thread; the caller holds the write lock."""
        future = asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The caller's write lock must outlast the thread's transaction.
            await asyncio.wait([future])
            raise

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None:
            self._connection = self._connect()
        return work(self._connection)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _store(
    arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str,
    connection: sqlite3.Connection,
) -> Stored:
    connection.execute("BEGIN IMMEDIATE")
    try:
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
        connection.execute("COMMIT")
    except BaseException:
        # SQLite may have rolled back already (some I/O errors do).
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    return arrival_results(arrivals, admitted, seqs), bool(jobs)
