"""The embedded SQLite backend (aiosqlite, WAL mode).

SQLite allows one writer at a time, so write transactions are serialised by a
lock in this process and ``BEGIN IMMEDIATE`` across processes; readers use a
second connection and see the last committed state without waiting. The
inbox's batches are written under the same lock on a third connection, which
commits in a thread of its own (:mod:`node.storage.sqlite_arrivals`).
Work queued in this process wakes its idle workers once the transaction
commits; SQLite cannot signal other processes, so their workers poll.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from node.errors import StorageUnavailable
from node.storage.base import ProgressCallback, Row, Session, Storage
from node.storage.notify import AnnouncingQueueQueries, WakeUps
from node.storage.records import ArrivingActivity, HostScreen, SearchHit, SearchQuery
from node.storage.search_filters import EARTH_RADIUS_KM
from node.storage.sqlite_arrivals import ArrivalWriter
from node.storage.sqlite_search import search_listings_sqlite

#: Longest idle wait: work queued by another process (a ``kula serve
#: --no-workers`` beside a ``kula worker``) is only found by looking.
POLL_SECONDS = 0.5


def distance_km(lat1: float | None, lon1: float | None, lat2: float, lon2: float) -> float | None:
    """Great-circle distance (haversine); registered as an SQL function."""
    if lat1 is None or lon1 is None:
        return None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def migration_files(dialect: str) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every shipped migration of ``dialect``, in order."""
    folder = resources.files("node.storage.migrations").joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version_text, _, rest = entry.name.partition("_")
            found.append((int(version_text), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    return sorted(found)


#: Primary result codes (https://sqlite.org/rescode.html) that mean the storage
#: under the database, not the statement, is at fault, and what each tells the client.
_UNAVAILABLE_CODES = {
    5: "the database is busy",  # SQLITE_BUSY: another process holds the write lock
    6: "the database is busy",  # SQLITE_LOCKED
    8: "the database is read-only",  # SQLITE_READONLY: file, directory or mount
    10: "the database's storage failed",  # SQLITE_IOERR and its extended codes (EIO, EFBIG)
    13: "the database's disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
}


def _translate(exc: sqlite3.Error) -> StorageUnavailable | None:
    """Disk full, read-only, failing or locked databases are the operator's
    problem, not a bug: a 503 the client may retry. Judged by SQLite's result
    code, never by the message, which quotes names from the statement (a
    missing column called ``disk_full`` is still a bug)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    reason = _UNAVAILABLE_CODES.get(code & 0xFF)
    if reason is None:
        return None
    name = getattr(exc, "sqlite_errorname", None) or str(exc)
    return StorageUnavailable(f"{reason} ({name}); try again later")


#: How long a writer waits for another process's write lock.
BUSY_TIMEOUT_MS = 10_000
#: Every connection's settings: wait for other processes' locks, enforce
#: foreign keys, and make each commit durable before it returns.
_CONNECTION_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = FULL",
)

#: SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock for now.
_LOCK_CODES = (5, 6)
#: Tries at making the schema current before giving up (about 10 s in all).
_OPEN_ATTEMPTS = 20


class SqliteSession(AnnouncingQueueQueries, Session):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        #: Set when this session queued work; the storage signals it on commit.
        self.work_announced = False

    async def _announce_work(self) -> None:
        self.work_announced = True

    # execute_fetchall is one trip to aiosqlite's thread; execute, fetch and
    # close are three, which tripled the cost of every small query. ``_one``
    # is only ever given queries of at most one row.
    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self._connection.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._connection.execute_fetchall(sql, tuple(params)))

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._connection.execute(sql, tuple(params)) as cursor:
            return cursor.rowcount

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = await self._one(sql, params)
        assert row is not None, "an INSERT ... RETURNING statement returned no row"
        return int(row[0])

    async def index_listing(self, seq: int, title: str, content: str, categories: str) -> None:
        await self._exec("DELETE FROM listings_fts WHERE rowid = ?", (seq,))
        await self._exec(
            "INSERT INTO listings_fts (rowid, title, content, categories) VALUES (?, ?, ?, ?)",
            (seq, title, content, categories),
        )

    async def unindex_listing(self, seq: int) -> None:
        await self._exec("DELETE FROM listings_fts WHERE rowid = ?", (seq,))

    async def search_listings(self, query: SearchQuery) -> list[SearchHit]:
        return await search_listings_sqlite(self, query)

    async def serialize_on(self, key: str) -> None:
        # Every write transaction here holds the database's one write lock
        # (BEGIN IMMEDIATE) from its start: they are serialised already.
        return None


class SqliteStorage(Storage):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._wakeups = WakeUps()
        self._arrivals: ArrivalWriter | None = None

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        for pragma in _CONNECTION_PRAGMAS:
            await connection.execute(pragma)
        await connection.create_function("kula_distance_km", 4, distance_km, deterministic=True)
        return connection

    def _connect_plain(self) -> sqlite3.Connection:
        """A driver connection set up like the others, for the inbox's arrivals
        (used from the loop and from their thread in turn, never at once)."""
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        for pragma in _CONNECTION_PRAGMAS:
            connection.execute(pragma)
        return connection

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await self._connect()
            await self._prepare_schema()
            self._reader = await self._connect()
            self._arrivals = ArrivalWriter(self._connect_plain, BUSY_TIMEOUT_MS)
        except sqlite3.Error as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open database {self.path}: {exc}") from exc
        if self.path.exists():
            self.path.chmod(0o600)

    async def _prepare_schema(self) -> None:
        """WAL mode and migrations. Processes started together on a new database
        (a web and a worker process) meet each other's locks here, and some
        of these steps do not wait on busy_timeout: they are retried instead."""
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                await self._writer.execute("PRAGMA journal_mode = WAL")  # type: ignore[union-attr]
                await self.migrate()
                return
            except sqlite3.OperationalError as exc:
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                if code not in _LOCK_CODES or attempt == _OPEN_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))

    async def close(self) -> None:
        if self._arrivals is not None:
            async with self._write_lock:  # after a batch still being written
                await self._arrivals.close()
            self._arrivals = None
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        assert self._writer is not None, "storage is not open"
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise (_translate(exc) or exc) from exc
            session = SqliteSession(self._writer)
            try:
                yield session
                await self._writer.execute("COMMIT")
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.Error) and (unavailable := _translate(exc)):
                    raise unavailable from exc
                raise
        if session.work_announced:
            self._wakeups.notify()

    async def store_arrivals(
        self, arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str
    ) -> list[int | None]:
        assert self._arrivals is not None, "storage is not open"
        if not arrivals:
            return []
        async with self._write_lock:
            try:
                results, queued = await self._arrivals.store(arrivals, screen, job_kind)
            except sqlite3.Error as exc:
                raise (_translate(exc) or exc) from exc
        if queued:
            self._wakeups.notify()
        return results

    async def _rollback(self) -> None:
        assert self._writer is not None
        try:
            await self._writer.execute("ROLLBACK")
        except sqlite3.Error:
            # The transaction may already be gone (SQLite rolls back on some I/O errors).
            pass

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        assert self._reader is not None, "storage is not open"
        try:
            yield SqliteSession(self._reader)
        except sqlite3.Error as exc:
            # A read can meet a failing disk too (EIO); that is a 503, not a 500.
            if unavailable := _translate(exc):
                raise unavailable from exc
            raise

    async def schema_version(self) -> int:
        assert self._writer is not None
        await self._ensure_migrations_table()
        async with self._writer.execute(
            "SELECT coalesce(max(version), 0) FROM schema_migrations"
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _ensure_migrations_table(self) -> None:
        assert self._writer is not None
        async with self._writer.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ) as cursor:
            if await cursor.fetchone() is not None:
                return
        # Under the write lock, which waits its turn: another process opening the
        # new database at the same moment (a web and a worker process started
        # together) would otherwise make this fail at once with "locked".
        await self._writer.execute("BEGIN IMMEDIATE")
        try:
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            await self._writer.execute("COMMIT")
        except sqlite3.Error:
            await self._rollback()
            raise

    async def migrate(self) -> list[int]:
        assert self._writer is not None
        applied = []
        async with self._write_lock:
            current = await self.schema_version()
            for version, name, sql in migration_files("sqlite"):
                if version <= current:
                    continue
                now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                # One script, one transaction: a crash mid-migration leaves the old schema.
                script = (
                    "BEGIN IMMEDIATE;\n"
                    f"{sql}\n"
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    f" VALUES ({version}, '{name}', '{now}');\n"
                    "COMMIT;\n"
                )
                try:
                    await self._writer.executescript(script)
                except sqlite3.Error:
                    await self._rollback()
                    # Another process may have applied it since we looked (each
                    # migration is all or nothing, so then it is there whole).
                    current = await self.schema_version()
                    if current >= version:
                        continue
                    raise
                applied.append(version)
        return applied

    async def ping(self) -> None:
        assert self._reader is not None, "storage is not open"
        async with self._reader.execute("SELECT 1") as cursor:
            await cursor.fetchone()

    async def backup_to(self, destination: Path, progress: ProgressCallback | None = None) -> None:
        await asyncio.to_thread(backup_sqlite_file, self.path, destination, progress)

    async def wait_for_work(self, at_most: float) -> None:
        await self._wakeups.wait(min(at_most, POLL_SECONDS))


def backup_sqlite_file(
    source: Path, destination: Path, progress: ProgressCallback | None = None
) -> None:
    """Copy a live database with SQLite's online backup API: a consistent snapshot
    even while the node keeps writing."""
    source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target_connection = sqlite3.connect(destination)
    try:

        def report(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        source_connection.backup(target_connection, pages=1024, progress=report)
    finally:
        target_connection.close()
        source_connection.close()
