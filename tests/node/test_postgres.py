"""The PostgreSQL backend itself: its migrations mirror SQLite's, placeholders,
row counts, error mapping, and job claims that never hand one row to two
workers. (Search, API and service behaviour run on both backends through
the ``[postgresql]`` half of the other storage and API tests.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from node.errors import ConfigError, StorageUnavailable, ValidationFailed
from node.storage import create_storage
from node.storage.postgres import PostgresStorage, translate_placeholders
from node.storage.postgres_search import fold, index_words, tsquery_text
from node.storage.records import SearchQuery
from node.storage.sqlite import SqliteStorage, distance_km, migration_files
from tests.support import make_settings

NOW = "2030-01-01T00:00:00Z"
LATER = "2030-01-01T00:05:00Z"
MUCH_LATER = "2030-01-01T01:00:00Z"


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[PostgresStorage]:
    storage = PostgresStorage(postgres_url)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


# --- schema -----------------------------------------------------------------------------


@pytest.mark.spec("Kula storage: migrations")
async def test_migrations_mirror_sqlite_and_are_idempotent(postgres_url: str) -> None:
    sqlite_names = [(v, n) for v, n, _ in migration_files("sqlite")]
    assert [(v, n) for v, n, _ in migration_files("postgresql")] == sqlite_names
    storage = PostgresStorage(postgres_url)
    await storage.open()
    try:
        assert await storage.schema_version() == sqlite_names[-1][0]
        assert await storage.migrate() == []
    finally:
        await storage.close()
    again = PostgresStorage(postgres_url)
    await again.open()
    try:
        assert await again.migrate() == []
        async with again.read() as session:
            rows = await session._all("SELECT version, name FROM schema_migrations ORDER BY 1")
        assert [(row["version"], row["name"]) for row in rows] == sqlite_names
    finally:
        await again.close()


async def _sqlite_schema(path: Path) -> dict[str, Any]:
    storage = SqliteStorage(path)
    await storage.open()
    schema: dict[str, Any] = {}
    try:
        async with storage.read() as s:
            tables = await s._all(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'listings_fts%' AND name <> 'schema_migrations'"
            )
            for table in (row["name"] for row in tables):
                columns = await s._all(f"PRAGMA table_info({table})")
                uniques = set()
                for index in await s._all(f"PRAGMA index_list({table})"):
                    if index["unique"] and index["origin"] != "pk":
                        info = await s._all(f"PRAGMA index_info({index['name']})")
                        uniques.add(tuple(row["name"] for row in info))
                keys = await s._all(f"PRAGMA foreign_key_list({table})")
                schema[table] = {
                    "columns": [(c["name"], bool(c["notnull"] or c["pk"])) for c in columns],
                    "primary_key": [c["name"] for c in sorted(columns, key=lambda c: c["pk"])
                                    if c["pk"]],
                    "unique": uniques,
                    "foreign_keys": {(k["from"], k["table"], k["to"], k["on_delete"])
                                     for k in keys},
                }
    finally:
        await storage.close()
    return schema


_PG_DELETE_RULES = {b"c": "CASCADE", b"n": "SET NULL", b"a": "NO ACTION", b"r": "RESTRICT"}


async def _postgres_schema(storage: PostgresStorage) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    async with storage.read() as s:
        tables = await s._all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_name NOT IN ('schema_migrations', 'listings_fts')"
        )
        for table in (row["table_name"] for row in tables):
            columns = await s._all(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE"
                " table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
            indexes = await s._all(
                "SELECT ix.indisprimary AS pk, array(SELECT pg_get_indexdef(ix.indexrelid, k, true)"
                " FROM generate_series(1, ix.indnatts) AS k) AS columns FROM pg_index ix"
                " WHERE ix.indrelid = ?::regclass AND ix.indisunique",
                (table,),
            )
            keys = await s._all(
                "SELECT a.attname AS source, c.confrelid::regclass::text AS target,"
                " f.attname AS target_column, c.confdeltype AS rule FROM pg_constraint c"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
                " JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1]"
                " WHERE c.contype = 'f' AND c.conrelid = ?::regclass",
                (table,),
            )
            # SQLite's UNIQUE COLLATE NOCASE is PostgreSQL's unique lower(...) index.
            unique = {tuple(c.removeprefix("lower(").removesuffix(")") for c in row["columns"])
                      for row in indexes if not row["pk"]}
            schema[table] = {
                "columns": [(c["column_name"], c["is_nullable"] == "NO") for c in columns],
                "primary_key": next(list(row["columns"]) for row in indexes if row["pk"]),
                "unique": unique,
                "foreign_keys": {(k["source"], k["target"], k["target_column"],
                                  _PG_DELETE_RULES[k["rule"]]) for k in keys},
            }
    return schema


@pytest.mark.spec("Kula storage: migrations")
async def test_schema_matches_sqlite(pg: PostgresStorage, tmp_path: Path) -> None:
    expected = await _sqlite_schema(tmp_path / "kula.sqlite3")
    actual = await _postgres_schema(pg)
    assert sorted(actual) == sorted(expected)
    for table, shape in expected.items():
        assert actual[table] == shape, table


# --- primitives ---------------------------------------------------------------------------


@pytest.mark.spec("Kula storage: portable SQL")
def test_placeholders_are_numbered_and_never_rewritten_inside_quotes() -> None:
    assert translate_placeholders("SELECT ? AS a, 'it''s' AS b WHERE x = ? LIMIT ?") == (
        "SELECT $1 AS a, 'it''s' AS b WHERE x = $2 LIMIT $3"
    )
    assert translate_placeholders('SELECT "col" FROM t WHERE c = ?') == (
        'SELECT "col" FROM t WHERE c = $1'
    )
    for bad in ("SELECT '?' FROM t", 'SELECT "?" FROM t', "SELECT 'open"):
        with pytest.raises(ValueError):
            translate_placeholders(bad)


async def _add_member(storage: PostgresStorage, username: str) -> int:
    async with storage.transaction() as tx:
        return await tx.insert_member(
            username=username, display_name=username, password_hash=None, is_admin=False,
            rsa_private_pem="-", ed25519_private_pem="-", created_at=NOW,
        )


@pytest.mark.spec("Kula storage: portable SQL")
async def test_exec_counts_rows_and_insert_returns_keys(pg: PostgresStorage) -> None:
    first, second = await _add_member(pg, "alice"), await _add_member(pg, "bob")
    assert second == first + 1
    async with pg.transaction() as tx:
        assert await tx._exec("UPDATE members SET summary = ?", ("hi",)) == 2
        assert await tx._exec("DELETE FROM members WHERE id = ?", (second,)) == 1
        assert await tx._exec("DELETE FROM members WHERE id = ?", (second,)) == 0
        row = await tx._one("SELECT * FROM members WHERE id = ?", (first,))
    assert row is not None and dict(row)["summary"] == "hi" and row["is_admin"] == 0
    # Usernames are unique without regard to ASCII case, as in SQLite.
    with pytest.raises(asyncpg.UniqueViolationError):
        await _add_member(pg, "ALICE")
    async with pg.read() as session:
        found = await session.get_member_by_username("Alice")
    assert found is not None and found.id == first


# --- errors -------------------------------------------------------------------------------


@pytest.mark.spec("Kula: bad input gets a 4xx, never a 500")
async def test_text_holding_nul_is_a_validation_error_not_a_crash(pg: PostgresStorage) -> None:
    member = await _add_member(pg, "alice")
    for sql, params in [
        ("UPDATE members SET summary = ? WHERE id = ?", ("a\x00b", member)),  # a form field
        ("SELECT * FROM members WHERE username = ?", ("al\x00ice",)),  # a path or query
    ]:
        with pytest.raises(ValidationFailed, match="U\\+0000"):
            async with pg.transaction() as tx:
                await tx._exec(sql, params)
    async with pg.read() as session:  # nothing was written, and the pool still serves
        found = await session.get_member_by_username("alice")
        # A name from a URL (/users/%00/inbox) is nobody's, not a validation error.
        assert await session.get_member_by_username("al\x00ice") is None
    assert found is not None and found.summary != "a\x00b"


@pytest.mark.spec("RFC 9110 §15.6.4")
async def test_unreachable_server_is_storage_unavailable() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    storage = PostgresStorage("postgresql://kula:secret@127.0.0.1:1/kula")
    with pytest.raises(StorageUnavailable) as caught:
        await storage.open()
    assert "secret" not in caught.value.detail


@pytest.mark.spec("RFC 9110 §15.6.4")
async def test_read_only_and_lost_connections_are_storage_unavailable(
    pg: PostgresStorage,
) -> None:
    with pytest.raises(StorageUnavailable):
        async with pg.transaction() as tx:
            await tx._exec("SET TRANSACTION READ ONLY")
            await tx._exec("UPDATE members SET summary = 'x'")
    with pytest.raises(StorageUnavailable):
        async with pg.transaction() as tx:
            await tx._exec("UPDATE members SET summary = 'x'")
            # The server ends this session mid-transaction, as a restart or failover would.
            await tx._one("SELECT pg_terminate_backend(pg_backend_pid())")
    # The pool replaces the dead connection: the node keeps working.
    await pg.ping()
    assert await _add_member(pg, "carol") > 0


@pytest.mark.spec("Kula storage: backends")
async def test_backend_is_chosen_by_database_url_and_refuses_file_backups(
    pg: PostgresStorage, postgres_url: str, tmp_path: Path
) -> None:
    chosen = create_storage(make_settings(tmp_path / "node", database_url=postgres_url))
    assert isinstance(chosen, PostgresStorage) and chosen.url == postgres_url
    assert isinstance(create_storage(make_settings(tmp_path / "other")), SqliteStorage)
    with pytest.raises(ConfigError, match="pg_dump"):
        await pg.backup_to(tmp_path / "copy")


# --- queued work --------------------------------------------------------------------------


async def _enqueue(storage: PostgresStorage, count: int) -> list[int]:
    async with storage.transaction() as tx:
        return [await tx.enqueue_job("test", {"n": n}, NOW) for n in range(count)]


@pytest.mark.spec("Kula federation: job claims (FOR UPDATE SKIP LOCKED)")
async def test_concurrent_claims_never_share_a_row(pg: PostgresStorage) -> None:
    ids = await _enqueue(pg, 4)
    async with pg.transaction() as tx:
        await tx.insert_deliveries(
            "https://a.example/act/1", "https://a.example/u/a",
            [(f"https://h{n}.example/inbox", f"h{n}.example") for n in range(4)], NOW,
        )
    first_claim: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def first_worker() -> None:
        async with pg.transaction() as tx:
            jobs = await tx.claim_jobs(NOW, LATER, 2)
            deliveries = await tx.claim_deliveries(NOW, LATER, 2)
            first_claim.set_result([job.id for job in jobs] + [d.id for d in deliveries])
            await release.wait()  # keep the row locks while the second worker claims

    worker = asyncio.create_task(first_worker())
    held = await first_claim
    try:
        # Without SKIP LOCKED this would wait on the first worker's locks.
        async with asyncio.timeout(10), pg.transaction() as tx:
            jobs = await tx.claim_jobs(NOW, LATER, 10)
            deliveries = await tx.claim_deliveries(NOW, LATER, 10)
    finally:
        release.set()
        await worker
    assert sorted(held[:2] + [job.id for job in jobs]) == ids
    all_deliveries = held[2:] + [d.id for d in deliveries]
    assert len(all_deliveries) == len(set(all_deliveries)) == 4


@pytest.mark.spec("Kula federation: job claims (lock expiry)")
async def test_expired_locks_are_claimed_again(pg: PostgresStorage) -> None:
    ids = await _enqueue(pg, 2)
    async with pg.transaction() as tx:
        assert [job.id for job in await tx.claim_jobs(NOW, LATER, 10)] == ids
    async with pg.transaction() as tx:
        assert await tx.claim_jobs(NOW, LATER, 10) == []  # still locked
    async with pg.transaction() as tx:
        again = await tx.claim_jobs(MUCH_LATER, "2030-01-01T01:05:00Z", 10)
    assert [job.id for job in again] == ids and {job.attempts for job in again} == {2}


# --- search -------------------------------------------------------------------------------


@pytest.mark.spec("Kula search: filters")
def test_words_are_folded_like_sqlite_unicode61() -> None:
    assert fold("Crème Brûlée") == "creme brulee"
    assert index_words("Café-table, naïve_idea 25€") == "cafe table naive idea 25"
    assert tsquery_text("Garden chai") == "('garden') & ('chai':*)"
    assert tsquery_text("foo_bar") == "('foo' <-> 'bar':*)"
    assert tsquery_text("' & | ! : * ( )") is None


@pytest.mark.spec("Kula search: filters")
async def test_hostile_search_text_never_fails(pg: PostgresStorage) -> None:
    for text in ("'); DROP TABLE listings; --", "a:* | !b", "\\", "&&&", "x" * 3000, "é_"):
        async with pg.read() as session:
            assert await session.search_listings(SearchQuery(text=text)) == []
    async with pg.read() as session:
        assert await session._one("SELECT count(*) AS n FROM listings") is not None


@pytest.mark.spec("Kula search: filters")
async def test_sql_distance_is_the_python_haversine(pg: PostgresStorage) -> None:
    pairs = [((52.52, 13.405), (52.39, 13.065)), ((-17.0, 179.9), (-17.0, -179.9)),
             ((0.0, 0.0), (0.0, 180.0)), ((47.37, 8.541), (47.37, 8.541))]
    async with pg.read() as session:
        for (lat1, lon1), (lat2, lon2) in pairs:
            row = await session._one(
                "SELECT kula_distance_km(?, ?, ?, ?) AS d", (lat1, lon1, lat2, lon2)
            )
            assert row is not None
            assert row["d"] == pytest.approx(distance_km(lat1, lon1, lat2, lon2), abs=1e-9)
        row = await session._one("SELECT kula_distance_km(NULL, 1, 2, 3) AS d")
    assert row is not None and row["d"] is None
