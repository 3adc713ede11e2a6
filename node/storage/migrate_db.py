"""Move a community from one database to another (SQLite to PostgreSQL, usually).

Every table is copied in primary-key order, in batches, from one consistent
snapshot of the source, so the node may keep running while the copy is made.
Keys and ``seq`` values are kept as they are, which keeps every IRI, cursor
and reference valid; PostgreSQL's identity sequences then continue after the
largest copied key. Each batch commits on its own and re-running the copy
starts after the last key the target already has, so an interrupted copy
resumes where it stopped, without duplicates. At the end every table's row
count is checked against the source and the search index is rebuilt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.errors import ConfigError, NodeError
from node.storage.base import Session, Storage
from node.storage.postgres import PostgresStorage
from node.storage.sqlite import SqliteStorage

logger = logging.getLogger(__name__)

#: Every table with its primary key, parents before the tables that refer to them.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("node_keys", ("name",)),
    ("node_settings", ("key",)),
    ("members", ("id",)),
    ("tokens", ("id",)),
    ("invites", ("code_hash",)),
    ("images", ("id",)),
    ("listings", ("seq",)),
    ("listing_categories", ("listing_seq", "category")),
    ("listing_images", ("listing_seq", "image_id")),
    ("activities", ("seq",)),
    ("remote_actors", ("iri",)),
    ("follows", ("id",)),
    ("inbox_activities", ("seq",)),
    ("jobs", ("id",)),
    ("deliveries", ("id",)),
    ("host_policies", ("host",)),
    ("peers", ("host",)),
    ("listing_replies", ("iri",)),
    ("exchanges", ("id",)),
    ("exchange_offers", ("offer_iri",)),
    ("exchange_events", ("seq",)),
    ("exchange_messages", ("seq",)),
    ("notifications", ("id",)),
    ("attestations", ("iri",)),
    ("actor_moves", ("old_iri",)),
    ("attestation_replies", ("attestation_iri",)),
    ("pools", ("listing_iri",)),
    ("pool_pledges", ("id",)),
    ("vouches", ("iri",)),
    ("invite_vouchers", ("invite_id",)),
    ("credential_tombstones", ("iri", "issuer_iri")),
    ("listing_questions", ("iri",)),
    ("listing_answers", ("question_iri",)),
    ("reports", ("id",)),
    ("moderation_actions", ("id",)),
)
#: Tables a backend keeps for itself: migration bookkeeping, the search index and
#: the reputation inputs counter (the target's triggers move its own).
_NOT_COPIED = ("schema_migrations", "listings_fts", "sqlite_", "reputation_inputs")


@dataclass(frozen=True)
class Progress:
    """Where a copy stands, reported after every batch."""

    table: str
    done: int
    total: int
    rows_per_second: float
    seconds_left: float | None


@dataclass
class MigrationReport:
    #: Per table: rows in the source, rows in the target, rows this run inserted.
    tables: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    indexed_listings: int = 0


ProgressHook = Callable[[Progress], None]
BatchHook = Callable[[str, int], None]


def storage_from_url(url: str, base_dir: Path | None = None) -> Storage:
    """A storage for ``sqlite:PATH`` (relative paths from ``base_dir``) or ``postgresql://``."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStorage(url)
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:").removeprefix("//")).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return SqliteStorage(path)
    raise ConfigError(f"{url!r}: expected sqlite:PATH or postgresql://...")


def log_progress(progress: Progress) -> None:
    """The default progress report: one log line per batch."""
    logger.info(
        "copied %d/%d rows of %s (%.0f rows/s)", progress.done, progress.total, progress.table,
        progress.rows_per_second,
        extra={"table": progress.table, "seconds_left": progress.seconds_left},
    )


async def migrate_database(
    source: Storage,
    target: Storage,
    *,
    batch_size: int = 500,
    on_progress: ProgressHook = log_progress,
    after_batch: BatchHook | None = None,
) -> MigrationReport:
    """Copy every table of ``source`` into ``target`` (both open, same schema version).

    ``after_batch(table, rows_done)`` runs after each committed batch; tests
    use it to interrupt a copy midway.
    """
    source_version, target_version = await source.schema_version(), await target.schema_version()
    if source_version != target_version:
        raise NodeError(
            f"the source schema is at version {source_version} and the target at"
            f" {target_version}; upgrade the older one first (kula migrate)"
        )
    report = MigrationReport()
    async with _snapshot(source) as reader:
        await _check_tables(reader, source)
        copy = _Copy(reader, target, batch_size, on_progress, after_batch)
        for table, key in TABLES:
            report.tables[table] = await copy.table(table, key)
    if isinstance(target, PostgresStorage):
        await _continue_identities(target)
    report.indexed_listings = await _rebuild_search_index(target, batch_size, on_progress)
    return report


@dataclass(frozen=True)
class _Copy:
    reader: Session
    target: Storage
    batch_size: int
    on_progress: ProgressHook
    after_batch: BatchHook | None

    async def table(self, table: str, key: tuple[str, ...]) -> tuple[int, int, int]:
        """Copy one table; return its rows in the source, in the target, and inserted now."""
        total = await _count(self.reader, table)
        async with self.target.read() as session:
            last = await session._one(
                f"SELECT {', '.join(key)} FROM {table} ORDER BY {_desc(key)} LIMIT 1"
            )
        resume = None if last is None else tuple(last[column] for column in key)
        inserted = await self.rows(table, key, total, resume)
        copied = await _count_in(self.target, table)
        if copied != total:
            # The source gained rows below the resume point since an interrupted
            # run (text keys are random): one full pass fills the gaps.
            inserted += await self.rows(table, key, total, None)
            copied = await _count_in(self.target, table)
        if copied != total:
            raise NodeError(
                f"{table}: the target has {copied} rows and the source {total}; the source"
                " changed since an earlier, interrupted copy. Stop the node and copy into an"
                " empty database."
            )
        return total, copied, inserted

    async def rows(
        self, table: str, key: tuple[str, ...], total: int, after: tuple[Any, ...] | None
    ) -> int:
        """Copy the rows after key ``after`` (all with None), batch by batch."""
        started = time.monotonic()
        done = 0 if after is None else await _count(self.reader, table, after_key=(key, after))
        first_done, inserted = done, 0
        while True:
            where, params = ("", []) if after is None else _after(key, after)
            rows = await self.reader._all(
                f"SELECT * FROM {table}{where} ORDER BY {', '.join(key)} LIMIT ?",
                [*params, self.batch_size],
            )
            if not rows:
                return inserted
            async with self.target.transaction() as tx:
                for row in rows:
                    inserted += await _insert_row(tx, table, dict(row))
            after = tuple(rows[-1][column] for column in key)
            done += len(rows)
            rate = (done - first_done) / max(time.monotonic() - started, 1e-6)
            left = (total - done) / rate if total >= done else None
            self.on_progress(Progress(table, done, total, rate, left))
            if self.after_batch is not None:
                self.after_batch(table, done)


async def _insert_row(tx: Session, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return await tx._exec(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
        list(row.values()),
    )


def _after(key: tuple[str, ...], values: Sequence[Any]) -> tuple[str, list[Any]]:
    # Row values compare like the composite key orders: (a, b) > (x, y).
    if len(key) == 1:
        return f" WHERE {key[0]} > ?", [values[0]]
    marks = ", ".join("?" for _ in key)
    return f" WHERE ({', '.join(key)}) > ({marks})", list(values)


def _desc(key: tuple[str, ...]) -> str:
    return ", ".join(f"{column} DESC" for column in key)


async def _count(
    session: Session, table: str, *, after_key: tuple[tuple[str, ...], Sequence[Any]] | None = None
) -> int:
    """Rows in ``table``; with ``after_key``, those at or before that key."""
    where, params = "", []
    if after_key is not None:
        key, values = after_key
        condition, params = _after(key, values)
        where = condition.replace(" WHERE ", " WHERE NOT ", 1)
    row = await session._one(f"SELECT count(*) AS n FROM {table}{where}", params)
    return 0 if row is None else int(row["n"])


async def _count_in(storage: Storage, table: str) -> int:
    async with storage.read() as session:
        return await _count(session, table)


@asynccontextmanager
async def _snapshot(storage: Storage) -> AsyncIterator[Session]:
    """One consistent view of a live database for the whole copy."""
    if isinstance(storage, PostgresStorage):
        async with storage.snapshot() as session:
            yield session
        return
    async with storage.read() as session:
        # In WAL mode a read transaction sees one state while writers go on.
        await session._exec("BEGIN")
        try:
            yield session
        finally:
            await session._exec("COMMIT")


async def _check_tables(reader: Session, storage: Storage) -> None:
    """Refuse to copy a schema with tables this module does not know (nothing is left behind)."""
    if isinstance(storage, PostgresStorage):
        sql = (
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    names = {row["name"] for row in await reader._all(sql)}
    unknown = {
        name for name in names if not name.startswith(_NOT_COPIED)
    } - {table for table, _ in TABLES}
    if unknown:
        raise NodeError(f"migrate-db does not know how to copy {', '.join(sorted(unknown))}")


async def _continue_identities(target: PostgresStorage) -> None:
    """Make PostgreSQL's generated keys continue after the copied ones."""
    async with target.transaction() as tx:
        identities = await tx._all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for row in identities:
            table, column = row["table_name"], row["column_name"]
            await tx._one(
                f"SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max({column}), 0) + 1,"
                f" false) AS next FROM {table}",
                (table, column),
            )


async def _rebuild_search_index(
    target: Storage, batch_size: int, on_progress: ProgressHook
) -> int:
    """Index every listing that is not deleted, as the node does when it stores one."""
    async with target.read() as session:
        row = await session._one("SELECT count(*) AS n FROM listings WHERE deleted_at IS NULL")
    total = 0 if row is None else int(row["n"])
    indexed, after, started = 0, 0, time.monotonic()
    while True:
        async with target.transaction() as tx:
            rows = await tx._all(
                "SELECT seq, title, content FROM listings WHERE seq > ? AND deleted_at IS NULL"
                " ORDER BY seq LIMIT ?",
                (after, batch_size),
            )
            for row in rows:
                categories, _ = await tx._links(row["seq"])
                await tx.index_listing(
                    row["seq"], row["title"], row["content"], " ".join(categories)
                )
        if not rows:
            return indexed
        indexed += len(rows)
        after = rows[-1]["seq"]
        rate = indexed / max(time.monotonic() - started, 1e-6)
        left = max(total - indexed, 0) / rate
        on_progress(Progress("search index", indexed, total, rate, left))
