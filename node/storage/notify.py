"""Wake-ups for idle workers: "jobs or deliveries were queued, look now".

A write that queues work announces it from inside its transaction
(:class:`AnnouncingQueueQueries`). Each backend turns the announcement into a
signal: SQLite sets an in-process flag once the transaction commits;
PostgreSQL issues ``NOTIFY kula_work``, which the server delivers on commit
(never for a rollback) to every process listening on the channel, through
:class:`WorkListener`. Waiters get the signal from :class:`WakeUps`.

A wake-up is only a hint. Workers still find their work by querying the
database, and still look on their own after a bounded idle interval, so a
lost notification costs latency, never a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from node.storage.queries.queue import QueueQueries

log = logging.getLogger("kula.storage.notify")

#: PostgreSQL channel announcing newly queued jobs or deliveries.
WORK_CHANNEL = "kula_work"

_CONNECTION_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class WakeUps:
    """An in-process signal with one pending flag per waiting task.

    Each task that waits gets its own flag, kept between waits: a signal that
    arrives while the task is busy (running the step it will wait after) is
    not lost, and its next wait returns at once.
    """

    def __init__(self) -> None:
        self._pending: weakref.WeakKeyDictionary[asyncio.Task[Any], asyncio.Event] = (
            weakref.WeakKeyDictionary()
        )

    def notify(self) -> None:
        """Wake every task waiting now, and mark it pending for those busy now."""
        for event in self._pending.values():
            event.set()

    async def wait(self, at_most: float) -> bool:
        """Return on a signal (possibly one received since this task's last
        wait) or after ``at_most`` seconds, whichever comes first; True when
        signalled."""
        task = asyncio.current_task()
        assert task is not None, "WakeUps.wait runs inside a task"
        event = self._pending.get(task)
        if event is None:
            event = self._pending[task] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, at_most)):
                await event.wait()
        signalled = event.is_set()
        event.clear()
        return signalled


class AnnouncingQueueQueries(QueueQueries):
    """The queue queries, announcing every write that makes work due now.

    Put it before ``Session`` in a backend session's bases; the backend
    supplies :meth:`_announce_work`, called inside the writing transaction.
    """

    async def _announce_work(self) -> None:
        raise NotImplementedError

    async def enqueue_job(self, kind: str, payload: dict[str, Any], now: str) -> int:
        job_id = await super().enqueue_job(kind, payload, now)
        await self._announce_work()
        return job_id

    async def enqueue_jobs(self, kind: str, payloads: Sequence[dict[str, Any]], now: str) -> int:
        queued = await super().enqueue_jobs(kind, payloads, now)
        if queued:
            await self._announce_work()
        return queued

    async def insert_deliveries(
        self, activity_iri: str, actor_iri: str, inboxes: Iterable[tuple[str, str]], now: str
    ) -> int:
        created = await super().insert_deliveries(activity_iri, actor_iri, inboxes, now)
        if created:
            await self._announce_work()
        return created

    async def requeue_failed_deliveries(self, now: str, host: str | None = None) -> int:
        requeued = await super().requeue_failed_deliveries(now, host)
        if requeued:
            await self._announce_work()
        return requeued


class WorkListener:
    """A dedicated PostgreSQL connection ``LISTEN``-ing on :data:`WORK_CHANNEL`.

    It is opened on the first wait, so processes that never wait (web
    processes run with ``--no-workers``, CLI commands) hold no extra
    connection. A dropped connection is reopened on the next wait.
    """

    def __init__(self, url: str, wakeups: WakeUps) -> None:
        self._url = url
        self._wakeups = wakeups
        self._connection: asyncpg.Connection | None = None
        self._opening = asyncio.Lock()

    async def ensure_listening(self) -> bool:
        """Listen if not already; True when listening started just now (so
        anything announced before it was missed), False otherwise, including
        when the database cannot be reached (the caller then just polls)."""
        if self._connection is not None and not self._connection.is_closed():
            return False
        async with self._opening:
            if self._connection is not None and not self._connection.is_closed():
                return False
            await self.close()
            try:
                connection = await asyncpg.connect(
                    self._url, timeout=10, server_settings={"application_name": "kula-listen"}
                )
            except _CONNECTION_ERRORS as exc:
                log.warning("cannot listen for queued work; polling instead: %s", exc)
                return False
            try:
                await connection.add_listener(WORK_CHANNEL, self._on_notification)
            except _CONNECTION_ERRORS as exc:
                log.warning("cannot listen for queued work; polling instead: %s", exc)
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    await connection.close()
                return False
            # Wake the waiters when the connection goes, so they reconnect at once.
            connection.add_termination_listener(self._on_termination)
            self._connection = connection
            return True

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await connection.close(timeout=5)

    def _on_notification(
        self, connection: object, pid: int, channel: str, payload: str
    ) -> None:
        self._wakeups.notify()

    def _on_termination(self, connection: object) -> None:
        self._wakeups.notify()
