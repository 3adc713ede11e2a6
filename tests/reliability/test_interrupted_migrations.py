"""Migrations that do not run alone or to their end.

``kula migrate-db`` SIGKILLed in the middle of a table: both databases stay
consistent (SQLite's integrity check passes; the target holds whole batches,
in key order, each equal to its source row) and running the command again
completes the copy without a duplicate. Two processes opening a new SQLite
database at once (a web and a worker process started together) both end up
on the latest schema. (``kula backup`` and ``kula migrate`` killed midway are
in tests/federation/test_crash.py.)"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from node.services import accounts, listings
from node.services.context import NodeContext
from node.storage.base import Storage
from node.storage.migrate_db import TABLES, storage_from_url
from node.storage.sqlite import SqliteStorage, migration_files
from tests.backends import fresh_database
from tests.federation.procs import KulaProcess, db_rows, integrity, listing, run_kula, wait_until
from tests.support import make_settings

ISSUE = "Kula reliability issue: SIGKILL during a migration"
LISTINGS = 80
#: One row per committed batch: the listings alone take many commits to kill between.
BATCH = "1"

Rows = dict[str, list[dict[str, Any]]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def target_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield "sqlite:copy.sqlite3"
        return
    async with fresh_database() as url:
        yield url


async def _fill(data_dir: Path) -> None:
    """A community with a few members and many listings, written by the node's services."""
    settings = make_settings(data_dir)
    storage = SqliteStorage(settings.database_path)
    await storage.open()
    try:
        ctx = NodeContext(settings=settings, storage=storage)
        members = [await accounts.create_member(ctx, name, password=None)
                   for name in ("alice", "bob", "carol")]
        for number in range(LISTINGS):
            await listings.create_listing(ctx, members[number % 3], listing(number))
    finally:
        await storage.close()


async def _rows(storage: Storage) -> Rows:
    async with storage.read() as session:
        return {table: [dict(row) for row in await session._all(
            f"SELECT * FROM {table} ORDER BY {', '.join(key)}")] for table, key in TABLES}


async def _both(source_path: Path, target: Storage) -> tuple[Rows, Rows]:
    source = SqliteStorage(source_path)
    await source.open()
    try:
        await target.open()
        try:
            return await _rows(source), await _rows(target)
        finally:
            await target.close()
    finally:
        await source.close()


class CopyWatch:
    """Counts the listings in the target from outside while the copy writes,
    over one connection, so each look is quick."""

    def __init__(self, target_url: str, data_dir: Path) -> None:
        self.url, self.data_dir = target_url, data_dir
        self.postgres: asyncpg.Connection | None = None

    async def listings(self) -> int:
        count = "SELECT count(*) FROM listings"
        if self.url.startswith("sqlite:"):
            path = self.data_dir / self.url.removeprefix("sqlite:")
            if not path.exists():
                return 0
            try:
                return int((await db_rows(path, count))[0][0])
            except sqlite3.OperationalError:  # no such table yet
                return 0
        if self.postgres is None:
            self.postgres = await asyncpg.connect(self.url)
        try:
            return int(await self.postgres.fetchval(count))
        except asyncpg.UndefinedTableError:
            return 0

    async def close(self) -> None:
        if self.postgres is not None:
            await self.postgres.close()


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(60)
async def test_migrate_db_killed_midway_leaves_both_databases_consistent_and_resumes(
    tmp_path: Path, cleanup: AsyncExitStack, target_url: str
) -> None:
    data_dir = tmp_path / "node"
    source = data_dir / "kula.sqlite3"
    await _fill(data_dir)
    target = storage_from_url(target_url, data_dir)
    command = ("migrate-db", "--data", str(data_dir), "--from", "sqlite:kula.sqlite3",
               "--to", target_url)

    copy = KulaProcess((*command, "--batch-size", BATCH), tmp_path / "migrate-db.log")
    watch = CopyWatch(target_url, data_dir)
    cleanup.push_async_callback(copy.kill)
    cleanup.push_async_callback(watch.close)
    await copy.spawn()
    await wait_until(watch.listings, within=30, interval=0.005,
                     what="the copy to reach the listings")
    assert copy.process is not None and copy.process.returncode is None
    await copy.kill()

    assert await integrity(source) == "ok"
    if isinstance(target, SqliteStorage):
        assert await integrity(target.path) == "ok"
    source_rows, target_rows = await _both(source, target)
    copied = len(target_rows["listings"])
    assert 0 < copied < LISTINGS, "the kill missed the middle of the listings"
    for table, rows in target_rows.items():
        # Whole rows, equal to the source's, and a prefix of the source in key
        # order: the copy stopped between two committed batches.
        assert rows == source_rows[table][: len(rows)], table

    out = await run_kula(*command)  # in batches of the default size
    assert f"listings: {LISTINGS}/{LISTINGS} rows ({LISTINGS - copied} copied this run)" in out
    assert f"search index rebuilt for {LISTINGS} listings" in out
    source_rows, target_rows = await _both(source, storage_from_url(target_url, data_dir))
    assert target_rows == source_rows


@pytest.mark.spec(ISSUE)
async def test_processes_opening_a_new_database_together_all_reach_the_latest_schema(
    tmp_path: Path,
) -> None:
    latest = max(version for version, _, _ in migration_files("sqlite"))
    for trial in range(3):
        path = tmp_path / f"new{trial}" / "kula.sqlite3"
        openers = [SqliteStorage(path) for _ in range(3)]
        try:
            # Each has its own connections and thread, as separate processes would.
            results = await asyncio.gather(*(storage.open() for storage in openers),
                                           return_exceptions=True)
            assert [result for result in results if result is not None] == []
            assert {await storage.schema_version() for storage in openers} == {latest}
        finally:
            for storage in openers:
                await storage.close()
        assert await integrity(path) == "ok"
