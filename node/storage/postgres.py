"""The PostgreSQL backend (asyncpg), for communities that outgrow one SQLite file.

It runs the same portable SQL as the SQLite backend: ``?`` placeholders are
rewritten to ``$1..$n`` once per statement, timestamps stay text and booleans
stay 0/1 (see ``migrations/postgresql/0001_initial.sql``). Every session holds
one pooled connection; ``transaction()`` wraps it in ``BEGIN`` ... ``COMMIT``,
and claims of queued work add ``FOR UPDATE SKIP LOCKED`` so several worker
processes never take the same row. Queuing work also issues ``NOTIFY
kula_work`` (delivered on commit), which wakes idle workers in every process
(:mod:`node.storage.notify`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import asyncpg

from node.errors import ConfigError, StorageUnavailable, ValidationFailed
from node.storage.base import ProgressCallback, Row, Session, Storage
from node.storage.notify import WORK_CHANNEL, AnnouncingQueueQueries, WakeUps, WorkListener
from node.storage.postgres_search import index_listing_postgres, search_listings_postgres
from node.storage.records import SearchHit, SearchQuery
from node.storage.sqlite import migration_files

#: Key of the advisory lock that serialises migrations across processes.
MIGRATION_LOCK_KEY = 0x4B554C41  # "KULA"

# SQLSTATE classes that mean "the database cannot serve us now", not "bug":
# connection exceptions, insufficient resources (disk full, out of memory or
# connections), operator intervention (shutdown), system I/O errors, and a
# read-only transaction (a hot standby, or default_transaction_read_only).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "58", "25006")
#: What the commonest of them tell the client; the others get a general reason.
_UNAVAILABLE_REASONS = {
    "53100": "the database's disk is full",
    "25006": "the database is read-only",
}


@lru_cache(maxsize=1024)
def translate_placeholders(sql: str) -> str:
    """Rewrite ``?`` placeholders as ``$1..$n``.

    The portable SQL never puts a ``?`` inside a string literal or quoted
    identifier; a statement that does is refused rather than mistranslated.
    """
    out: list[str] = []
    quote: str | None = None
    number = 0
    for char in sql:
        if quote is not None:
            if char == "?":
                raise ValueError(f"'?' inside a quoted literal cannot be translated: {sql!r}")
            if char == quote:
                quote = None  # a doubled quote closes and reopens: same result
            out.append(char)
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            number += 1
            out.append(f"${number}")
        else:
            out.append(char)
    if quote is not None:
        raise ValueError(f"unterminated quoted literal in {sql!r}")
    return "".join(out)


def translate_error(exc: BaseException) -> StorageUnavailable | None:
    """The operator's problems (server down, disk full, read-only) as a 503."""
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        if state.startswith(_UNAVAILABLE_SQLSTATES):
            reason = _UNAVAILABLE_REASONS.get(state, "the database cannot serve requests right now")
            return StorageUnavailable(f"{reason}; try again later ({exc})")
        return None
    if isinstance(exc, OSError | asyncpg.exceptions.ConnectionDoesNotExistError):
        return StorageUnavailable(f"the database cannot be reached: {exc}")
    return None


def _affected_rows(status: str) -> int:
    """asyncpg reports ``UPDATE 3`` / ``INSERT 0 1`` / ``DELETE 0``: the count is last."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresSession(AnnouncingQueueQueries, Session):
    claim_lock_clause = " FOR UPDATE SKIP LOCKED"
    row_lock_clause = " FOR UPDATE"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._announced = False

    async def _announce_work(self) -> None:
        # Inside a transaction the server holds the notification until COMMIT
        # and drops it on ROLLBACK: workers never wake for work that is not there.
        if not self._announced:
            await self._connection.execute(f"NOTIFY {WORK_CHANNEL}")
            self._announced = True

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._connection.fetchrow(translate_placeholders(sql), *params)

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._connection.fetch(translate_placeholders(sql), *params))

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self._connection.execute(translate_placeholders(sql), *params)
        return _affected_rows(status)

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = await self._connection.fetchrow(translate_placeholders(sql), *params)
        assert row is not None, "an INSERT ... RETURNING statement returned no row"
        return int(row[0])

    async def index_listing(self, seq: int, title: str, content: str, categories: str) -> None:
        await index_listing_postgres(self, seq, title, content, categories)

    async def unindex_listing(self, seq: int) -> None:
        await self._exec("DELETE FROM listings_fts WHERE seq = ?", (seq,))

    async def search_listings(self, query: SearchQuery) -> list[SearchHit]:
        return await search_listings_postgres(self, query)

    async def serialize_on(self, key: str) -> None:
        # A transaction-scoped advisory lock on the key's 64-bit hash: two keys
        # sharing a hash only wait for each other needlessly.
        await self._connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key
        )


class PostgresStorage(Storage):
    """A PostgreSQL database given by a ``postgresql://`` URL.

    Query parameters other than libpq's own become server settings, so
    ``?search_path=kula`` keeps the node's tables in their own schema.
    """

    def __init__(self, url: str, *, min_connections: int = 1, max_connections: int = 10) -> None:
        self.url = url
        self._min_connections = min_connections
        self._max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self._wakeups = WakeUps()
        self._listener = WorkListener(url, self._wakeups)

    def __repr__(self) -> str:
        return f"PostgresStorage({_without_password(self.url)!r})"

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._min_connections,
                max_size=self._max_connections,
                server_settings={"application_name": "kula"},
            )
            await self.migrate()
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            await self.close()
            unavailable = translate_error(exc) or StorageUnavailable(str(exc))
            raise StorageUnavailable(
                f"cannot open database {_without_password(self.url)}: {unavailable.detail}"
            ) from exc

    async def close(self) -> None:
        await self._listener.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        assert self._pool is not None, "storage is not open"
        try:
            connection = await self._pool.acquire()
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            raise (translate_error(exc) or exc) from exc
        try:
            yield connection
        finally:
            await self._pool.release(connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        async with self._connection() as connection, _translated():
            transaction = connection.transaction()
            await transaction.start()
            try:
                yield PostgresSession(connection)
            except BaseException:
                # A broken connection cannot roll back; the server does it for us.
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await transaction.rollback()
                raise
            await transaction.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        # No transaction: each statement sees the latest committed state, as
        # the SQLite reader does.
        async with self._connection() as connection, _translated():
            yield PostgresSession(connection)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Session]:
        """A read-only session in which every query sees one consistent state."""
        async with self._connection() as connection, _translated():
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                yield PostgresSession(connection)

    async def schema_version(self) -> int:
        async with self._connection() as connection, _translated():
            await _ensure_migrations_table(connection)
            value = await connection.fetchval(
                "SELECT coalesce(max(version), 0) FROM schema_migrations"
            )
        return int(value)

    async def migrate(self) -> list[int]:
        applied: list[int] = []
        async with self._connection() as connection, _translated():
            # DDL is transactional here: all pending migrations land, or none.
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
                await _ensure_migrations_table(connection)
                current = await connection.fetchval(
                    "SELECT coalesce(max(version), 0) FROM schema_migrations"
                )
                for version, name, sql in migration_files("postgresql"):
                    if version <= current:
                        continue
                    await connection.execute(sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES ($1, $2, $3)",
                        version,
                        name,
                        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    )
                    applied.append(version)
        return applied

    async def ping(self) -> None:
        async with self._connection() as connection, _translated():
            await connection.fetchval("SELECT 1")

    async def wait_for_work(self, at_most: float) -> None:
        if await self._listener.ensure_listening():
            return  # work queued before we listened was not announced to us: look now
        await self._wakeups.wait(at_most)

    async def backup_to(self, destination: Path, progress: ProgressCallback | None = None) -> None:
        raise ConfigError(
            "a PostgreSQL database is backed up with PostgreSQL's own tools:"
            " pg_dump --format=custom (and pg_restore to restore)"
        )


async def _ensure_migrations_table(connection: asyncpg.Connection) -> None:
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError) as exc:
        # PostgreSQL's text and jsonb cannot hold U+0000, which SQLite stores.
        # Whatever brought one (a form, a query string, a fetched document)
        # learns that, instead of the node failing.
        raise ValidationFailed(
            "the text holds the character U+0000 (NUL), which this node cannot store"
        ) from exc
    except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
        unavailable = translate_error(exc)
        if unavailable is None:
            raise
        raise unavailable from exc


def _without_password(url: str) -> str:
    """The URL for messages: a password never reaches a log."""
    scheme, separator, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{separator}{credentials.split(':', 1)[0]}:***@{location}"
