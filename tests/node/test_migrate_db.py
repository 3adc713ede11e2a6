"""``kula migrate-db``: a live SQLite community moved to PostgreSQL with
nothing lost, an interrupted copy resumed without duplicates, and the command
line with its progress report."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from conftest import TestMember as Member
from helpers import listing_body, png_bytes

from node.app import create_app
from node.cli_storage import terminal_progress
from node.errors import ConfigError, NodeError
from node.services import invites, listings, tokens
from node.services.context import NodeContext
from node.settings import Settings
from node.storage.base import Storage
from node.storage.migrate_db import (
    TABLES,
    MigrationReport,
    Progress,
    migrate_database,
    storage_from_url,
)
from node.storage.postgres import PostgresStorage
from node.storage.records import Exchange, Follow, HostPolicy, Peer, RemoteActor, Reply
from node.storage.sqlite import SqliteStorage
from node.typedefs import context_key

NOW = "2030-01-01T00:00:00Z"
REPOSITORY = Path(__file__).resolve().parents[2]
REMOTE = "https://far.example"
AppClient = Callable[[web.Application], Awaitable[TestClient]]


async def upload_image(client: TestClient, member: Member) -> str:
    form = FormData()
    form.add_field("file", png_bytes((40, 30)), filename="a.png", content_type="image/png")
    response = await client.post("/api/v1/images", data=form, headers=member.auth)
    assert response.status == 201, await response.text()
    return (await response.json())["id"]


async def build_community(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> dict[str, Any]:
    """Some of everything a community stores, written through the node itself."""
    alice = await make_member("alice", scope="admin")
    bob = await make_member("bob")
    image = await upload_image(client, alice)
    made = [
        await listings.create_listing(ctx, alice.member, listing_body(
            title="Cordless drill", images=[image])),
        await listings.create_listing(ctx, bob.member, listing_body(
            title="Café table", categories=["furniture", "garden"], price=None, mode="give",
            location={"latitude": 52.39, "longitude": 13.065, "precision": "exact"})),
        await listings.create_listing(ctx, bob.member, listing_body(title="Hammer drill")),
        await listings.create_listing(ctx, alice.member, listing_body(title="Old ladder")),
        await listings.create_listing(ctx, alice.member, listing_body(title="Gone bike")),
    ]
    await listings.withdraw_listing(ctx, alice.member, made[3].id)
    await listings.delete_listing(ctx, alice.member, made[4].id)
    await invites.create_invite(ctx, created_by=alice.member.id, note="for carol")
    actor = f"{REMOTE}/users/zoe"
    async with ctx.storage.transaction() as tx:
        await tx.upsert_remote_actor(RemoteActor(
            iri=actor, host="far.example", type="Person", preferred_username="zoe",
            inbox=f"{actor}/inbox", shared_inbox=f"{REMOTE}/inbox", followers=None,
            rsa_key_id=f"{actor}#main-key", rsa_public_pem="-", document={"id": actor},
            fetched_at=NOW, expires_at=NOW))
        await tx.upsert_follow(Follow(
            id="f1", follower_iri=actor, followee_iri=ctx.urls.actor("alice"), state="accepted",
            activity_iri=f"{REMOTE}/follows/1", created_at=NOW, updated_at=NOW))
        await tx.insert_deliveries(made[0].iri + "#create", ctx.urls.actor("alice"),
                                   [(f"{REMOTE}/inbox", "far.example")], NOW)
        await tx.claim_deliveries(NOW, "2030-01-01T00:05:00Z", 1)
        await tx.insert_inbox_activity(iri=f"{REMOTE}/activities/1", actor_iri=actor,
                                       type="Like", document={"type": "Like"}, received_at=NOW)
        await tx.enqueue_job("process-inbox", {"seq": 1}, NOW)
        await tx.set_host_policy(HostPolicy("bad.example", "block", "spam", NOW))
        await tx.add_peer(Peer("friends.example", "https://friends.example/g", NOW))
        await tx.upsert_reply(Reply(f"{REMOTE}/notes/1", made[0].seq, actor, "Still there?",
                                    NOW, {"type": "Note"}, None))
        await tx.save_exchange(Exchange(
            id="x1", proposal_iri=made[0].iri, listing_seq=made[0].seq, proposer_iri=actor,
            responder_iri=ctx.urls.actor("alice"), mode="sell", state="offered",
            pending_offer_iri=None, pending_offer_role=None, agreement_iri=None,
            agreement=None, quantity=1, starts_at=None, ends_at=None,
            holds_availability=False, reason=None, created_at=NOW, updated_at=NOW))
        await tx.notify(alice.member.id, "exchange", "Zoe wants your drill", "x1", NOW)
    return {"alice": alice, "bob": bob, "image": image, "listings": made}


async def table_rows(storage: Storage) -> dict[str, list[dict[str, Any]]]:
    rows = {}
    async with storage.read() as session:
        for table, key in TABLES:
            found = await session._all(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")
            rows[table] = [dict(row) for row in found]
    return rows


async def open_pair(settings: Settings, url: str) -> tuple[SqliteStorage, PostgresStorage]:
    source, target = SqliteStorage(settings.database_path), PostgresStorage(url)
    await source.open()
    await target.open()
    return source, target


# Requests whose answers must be byte for byte the same on both databases.
def requests_to_compare(community: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    alice, bob = community["alice"], community["bob"]
    activity = {"Accept": "application/activity+json"}
    listing_ids = [listing.id for listing in community["listings"][:4]]
    return [
        ("/api/v1/search", {}),
        ("/api/v1/search?q=drill&sort=relevance", {}),
        ("/api/v1/search?q=cafe", {}),
        ("/api/v1/search?status=withdrawn", {}),
        ("/api/v1/search?lat=52.52&lon=13.405&sort=distance&limit=2", {}),
        ("/api/v1/members/alice", {}),
        ("/api/v1/me", alice.auth),
        ("/api/v1/me", bob.auth),
        ("/api/v1/tokens", alice.auth),
        ("/api/v1/admin/invites", alice.auth),
        ("/api/v1/admin/members", alice.auth),
        ("/api/v1/members/alice/listings", {}),
        (f"/api/v1/images/{community['image']}", alice.auth),
        ("/users/alice", activity),
        ("/users/alice/outbox?page=true", activity),
        *((f"/api/v1/listings/{listing_id}", {}) for listing_id in listing_ids),
        *((f"/listings/{listing_id}", activity) for listing_id in listing_ids),
    ]


@pytest.mark.spec("Kula storage: migrate-db")
async def test_live_sqlite_community_moves_to_postgresql_with_nothing_lost(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory, settings: Settings,
    postgres_url: str, aiohttp_client: AppClient,
) -> None:
    community = await build_community(client, ctx, make_member)
    # The node is still running: its latest writes sit in the write-ahead log.
    wal = settings.database_path.with_name(settings.database_path.name + "-wal")
    assert wal.stat().st_size > 0
    source, target = await open_pair(settings, postgres_url)
    try:
        report = await migrate_database(source, target, batch_size=3, on_progress=lambda p: None)
        assert await table_rows(target) == await table_rows(source)
    finally:
        await source.close()
        await target.close()
    assert all(in_source == in_target for in_source, in_target, _ in report.tables.values())
    assert report.tables["listings"][0] == 5 and report.indexed_listings == 4

    moved = await aiohttp_client(create_app(replace(settings, database_url=postgres_url),
                                            run_workers=False))
    try:
        for path, headers in requests_to_compare(community):
            before = await client.get(path, headers=headers)
            after = await moved.get(path, headers=headers)
            assert before.status == 200, (path, await before.text())
            assert (before.status, await before.read()) == (after.status, await after.read()), path
        # New rows continue after the copied keys instead of colliding with them.
        response = await moved.post("/api/v1/listings", json=listing_body(title="After"),
                                    headers=community["bob"].auth)
        assert response.status == 201, await response.text()
        created = await response.json()
        async with moved.app[context_key].storage.read() as session:
            row = await session._one("SELECT seq FROM listings WHERE id = ?", (created["id"],))
        assert row is not None and row["seq"] == community["listings"][-1].seq + 1
    finally:
        # Close the PostgreSQL node before its database is dropped.
        await moved.close()


class Interrupted(Exception):
    pass


@pytest.mark.spec("Kula storage: migrate-db (resume)")
async def test_interrupted_copy_resumes_without_duplicates(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory, settings: Settings,
    postgres_url: str,
) -> None:
    community = await build_community(client, ctx, make_member)
    for name in ("carol", "dave", "erin"):
        await make_member(name)

    def stop_in_listings(table: str, done: int) -> None:
        if table == "listings" and done >= 2:
            raise Interrupted

    source, target = await open_pair(settings, postgres_url)
    try:
        with pytest.raises(Interrupted):
            await migrate_database(source, target, batch_size=2, after_batch=stop_in_listings,
                                   on_progress=lambda p: None)
        partial = await table_rows(target)
        assert len(partial["members"]) == 5 and len(partial["listings"]) == 2
        assert partial["tokens"] and partial["activities"] == []
        # The community keeps going between the two runs: a new token gets a random
        # id that may sort before the ones already copied.
        await tokens.issue_token(ctx, community["bob"].member, "late", "read")
        seen: list[Progress] = []
        report = await migrate_database(source, target, batch_size=2, on_progress=seen.append)
        assert await table_rows(target) == await table_rows(source)
    finally:
        await source.close()
        await target.close()
    assert inserted(report, "members") == 0  # already copied: skipped, not re-read
    assert inserted(report, "listings") == 3 and inserted(report, "tokens") == 1
    assert not [p for p in seen if p.table == "members"]
    listing_progress = [p.done for p in seen if p.table == "listings"]
    assert listing_progress == [4, 5] and {p.total for p in seen if p.table == "listings"} == {5}


def inserted(report: MigrationReport, table: str) -> int:
    return report.tables[table][2]


@pytest.mark.spec("Kula storage: migrate-db")
async def test_storage_urls_and_refusals(tmp_path: Path, postgres_url: str) -> None:
    relative = storage_from_url("sqlite:db/kula.sqlite3", tmp_path)
    assert isinstance(relative, SqliteStorage) and relative.path == tmp_path / "db/kula.sqlite3"
    absolute = storage_from_url(f"sqlite:{tmp_path}/k.sqlite3", Path("/elsewhere"))
    assert isinstance(absolute, SqliteStorage) and absolute.path == tmp_path / "k.sqlite3"
    assert isinstance(storage_from_url(postgres_url), PostgresStorage)
    with pytest.raises(ConfigError):
        storage_from_url("mysql://db/kula")
    # A table the copy does not know about is refused rather than left behind.
    source, target = SqliteStorage(tmp_path / "a.sqlite3"), PostgresStorage(postgres_url)
    await source.open()
    await target.open()
    try:
        async with source.transaction() as tx:
            await tx._exec("CREATE TABLE surprise (id INTEGER PRIMARY KEY)")
        with pytest.raises(NodeError, match="surprise"):
            await migrate_database(source, target)
    finally:
        await source.close()
        await target.close()


@pytest.mark.spec("Kula storage: migrate-db (progress)")
def test_terminal_progress_shows_rows_rate_and_time_left() -> None:
    stream = io.StringIO()
    report = terminal_progress(stream)
    report(Progress("listings", 500, 2000, 250.0, 6.0))
    report(Progress("listings", 2000, 2000, 250.0, 0.0))
    assert stream.getvalue() == (
        "\r\x1b[Klistings: 500/2000 rows, 250 rows/s, 0m06s left"
        "\r\x1b[Klistings: 2000/2000 rows, 250 rows/s, 0m00s left\n"
    )


@pytest.mark.spec("Kula storage: migrate-db (command line)")
async def test_migrate_db_command(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory, settings: Settings,
    postgres_url: str,
) -> None:
    await build_community(client, ctx, make_member)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node.cli", "migrate-db", "--data", str(settings.data_dir),
        "--from", "sqlite:kula.sqlite3", "--to", postgres_url, "--batch-size", "2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "listings: 5/5 rows (5 copied this run)" in out.decode()
    # Not a terminal: progress goes to the log, one line per batch.
    assert "copied 2/5 rows of listings" in err.decode()
    target = PostgresStorage(postgres_url)
    await target.open()
    try:
        source = SqliteStorage(settings.database_path)
        await source.open()
        try:
            assert await table_rows(target) == await table_rows(source)
        finally:
            await source.close()
    finally:
        await target.close()
