"""Storage: migrations, transactions, and listing search with every filter,
sort order and cursor pagination, against a real SQLite database."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from conftest import MemberFactory
from helpers import listing_body, row_counts

from node.services import listings, outbox
from node.services.context import NodeContext
from node.services.search import decode_cursor, search
from node.storage import postgres as postgres_module
from node.storage import sqlite as sqlite_module
from node.storage.base import Storage
from node.storage.postgres import PostgresStorage
from node.storage.records import Exchange, ExchangeMessage, Listing, SearchQuery
from node.storage.sqlite import SqliteStorage, distance_km, migration_files
from tests.backends import fresh_database

BERLIN = (52.52, 13.405)
POTSDAM = (52.39, 13.065)
HAMBURG = (53.55, 9.993)
ZURICH = (47.37, 8.541)


def place(where: tuple[float, float]) -> dict[str, Any]:
    return {"latitude": where[0], "longitude": where[1], "precision": "exact"}


# --- migrations and transactions --------------------------------------------------------


@pytest.mark.spec("Kula storage: migrations")
async def test_migrations_are_idempotent(tmp_path: Path) -> None:
    latest = max(version for version, _, _ in migration_files("sqlite"))
    path = tmp_path / "kula.sqlite3"
    storage = SqliteStorage(path)
    await storage.open()
    try:
        assert await storage.schema_version() == latest
        assert await storage.migrate() == []
        assert await storage.migrate() == []
    finally:
        await storage.close()
    again = SqliteStorage(path)
    await again.open()
    try:
        assert await again.schema_version() == latest
        async with again.read() as session:
            rows = await session._all("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == sorted(v for v, _, _ in
                                                          migration_files("sqlite"))
    finally:
        await again.close()
    assert path.stat().st_mode & 0o077 == 0, "the database is readable by its owner only"


@pytest.mark.spec("Kula storage: transactions")
async def test_transaction_rolls_back_on_error(
    ctx: NodeContext, make_member: MemberFactory
) -> None:
    before = await row_counts(ctx)
    with pytest.raises(RuntimeError):
        async with ctx.storage.transaction() as tx:
            await tx.insert_member(
                username="ghost", display_name="Ghost", password_hash=None, is_admin=False,
                rsa_private_pem="-", ed25519_private_pem="-", created_at="2030-01-01T00:00:00Z",
            )
            assert await tx.get_member_by_username("ghost") is not None
            raise RuntimeError("crash mid-transaction")
    assert await row_counts(ctx) == before
    async with ctx.storage.read() as session:
        assert await session.get_member_by_username("ghost") is None
    # The write lock was released: the next transaction goes through.
    await make_member("alice")
    assert (await row_counts(ctx))["members"] == before["members"] + 1


@pytest.mark.spec("Kula storage: transactions")
async def test_failed_listing_leaves_no_listing_index_or_activity(
    ctx: NodeContext, make_member: MemberFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await make_member("alice")

    async def broken_outbox(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(listings, "record_activity", broken_outbox)
    before = await row_counts(ctx)
    with pytest.raises(RuntimeError):
        await listings.create_listing(ctx, alice.member, listing_body(title="Phantom drill"))
    assert await row_counts(ctx) == before
    async with ctx.storage.read() as session:
        hits = await session.search_listings(SearchQuery(text="phantom", status=None))
        fts = await session._one("SELECT count(*) AS n FROM listings_fts")
    assert hits == [] and fts is not None and fts["n"] == 0
    monkeypatch.setattr(listings, "record_activity", outbox.record_activity)
    await listings.create_listing(ctx, alice.member, listing_body(title="Real drill"))
    assert (await row_counts(ctx))["activities"] == before["activities"] + 1


# --- search -----------------------------------------------------------------------------


@pytest.fixture
async def catalogue(ctx: NodeContext, make_member: MemberFactory) -> dict[str, Listing]:
    """A small, varied set of listings; keys name each one."""
    alice = await make_member("alice")
    member = alice.member

    async def make(key: str, **fields: Any) -> tuple[str, Listing]:
        return key, await listings.create_listing(ctx, member, listing_body(**fields))

    made = dict([
        await make("drill", title="Cordless drill", location=place(BERLIN)),
        await make("hammer", title="Hammer drill", mode="rent",
                   price={"amount": "5", "currency": "EUR", "per": "P1D"},
                   location=place(POTSDAM)),
        await make("chairs", title="Garden chairs", mode="give", price=None,
                   categories=["garden", "furniture"], location=place(HAMBURG)),
        await make("ladder", title="Wanted: ladder", purpose="request", mode="lend",
                   price=None, location=None),
        await make("bike", title="Bicycle", price={"amount": "120", "currency": "CHF"},
                   categories=["bikes"], location=place(ZURICH)),
        await make("toolbox", title="Toolbox", description="Fits a drill and more.",
                   location=place(BERLIN)),
        await make("cafe", title="Café table", categories=["furniture"],
                   price={"amount": "15", "currency": "EUR"}, location=None),
        await make("old", title="Old drill", price={"amount": "10", "currency": "EUR"},
                   location=place(BERLIN)),
        await make("gone", title="Drill press", location=place(BERLIN)),
    ])
    made["old"] = await listings.withdraw_listing(ctx, member, made["old"].id)
    await listings.delete_listing(ctx, member, made["gone"].id)
    return made


async def found(ctx: NodeContext, **query: Any) -> list[str]:
    async with ctx.storage.read() as session:
        hits = await session.search_listings(SearchQuery(**{"limit": 100, **query}))
    return [hit.listing.title for hit in hits]


@pytest.mark.spec("Kula search: filters")
async def test_text_filter(ctx: NodeContext, catalogue: dict[str, Listing]) -> None:
    assert set(await found(ctx, text="drill")) == {"Cordless drill", "Hammer drill", "Toolbox"}
    assert set(await found(ctx, text="drill", status=None)) == {
        "Cordless drill", "Hammer drill", "Toolbox", "Old drill"}
    assert await found(ctx, text="cafe") == ["Café table"]  # diacritics are folded
    assert await found(ctx, text="garden chai") == ["Garden chairs"]  # last word as prefix
    assert await found(ctx, text="furniture") == ["Café table", "Garden chairs"]
    assert await found(ctx, text="press", status=None) == []  # deleted listings never match


@pytest.mark.spec("Kula search: filters")
async def test_field_filters(ctx: NodeContext, catalogue: dict[str, Listing]) -> None:
    assert await found(ctx, purpose="request") == ["Wanted: ladder"]
    assert await found(ctx, mode="give") == ["Garden chairs"]
    assert await found(ctx, mode="rent", purpose="offer") == ["Hammer drill"]
    assert await found(ctx, category="furniture") == ["Café table", "Garden chairs"]
    assert await found(ctx, category="nothing") == []
    assert await found(ctx, currency="CHF") == ["Bicycle"]
    assert await found(ctx, status="withdrawn") == ["Old drill"]
    assert await found(ctx, status="expired") == []
    everything = await found(ctx, status=None)
    assert len(everything) == 8 and "Drill press" not in everything


@pytest.mark.spec("Kula search: filters")
async def test_price_range(ctx: NodeContext, catalogue: dict[str, Listing]) -> None:
    assert await found(ctx, min_price=20) == ["Toolbox", "Bicycle", "Cordless drill"]
    assert await found(ctx, min_price=20, currency="EUR") == ["Toolbox", "Cordless drill"]
    assert await found(ctx, min_price=5, max_price=15) == ["Café table", "Hammer drill"]
    # Free listings cost nothing, so they fit under any maximum.
    assert await found(ctx, max_price=5) == ["Wanted: ladder", "Garden chairs", "Hammer drill"]


@pytest.mark.spec("Kula search: filters")
async def test_radius_and_distance(ctx: NodeContext, catalogue: dict[str, Listing]) -> None:
    lat, lon = BERLIN
    near = await found(ctx, latitude=lat, longitude=lon, radius_km=10)
    assert set(near) == {"Cordless drill", "Toolbox"}
    wider = await found(ctx, latitude=lat, longitude=lon, radius_km=30)
    assert set(wider) == {"Cordless drill", "Toolbox", "Hammer drill"}
    async with ctx.storage.read() as session:
        hits = await session.search_listings(
            SearchQuery(latitude=lat, longitude=lon, radius_km=30, sort="distance")
        )
    berlin_potsdam = distance_km(*BERLIN, *POTSDAM)
    assert berlin_potsdam is not None and 20 < berlin_potsdam < 30
    assert [round(hit.distance_km or 0, 6) for hit in hits] == [
        0.0, 0.0, round(berlin_potsdam, 6)]


@pytest.mark.spec("Kula search: filters")
async def test_radius_across_the_antimeridian(
    ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    fiji = {"latitude": -17.0, "longitude": 179.9, "precision": "exact"}
    await listings.create_listing(ctx, alice.member, listing_body(title="Kava bowl",
                                                                  location=fiji))
    # 0.2 degrees of longitude away, on the other side of the 180th meridian.
    assert await found(ctx, latitude=-17.0, longitude=-179.9, radius_km=50) == ["Kava bowl"]
    assert await found(ctx, latitude=-17.0, longitude=-179.0, radius_km=50) == []


@pytest.mark.spec("Kula search: sorting")
async def test_sort_orders(ctx: NodeContext, catalogue: dict[str, Listing]) -> None:
    recent = await found(ctx, sort="recent")
    by_seq = sorted(
        (listing for key, listing in catalogue.items() if key not in {"old", "gone"}),
        key=lambda listing: -listing.seq,
    )
    assert recent == [listing.title for listing in by_seq]
    # A match in the title outranks one in the description.
    relevance = await found(ctx, text="drill", sort="relevance")
    assert relevance[-1] == "Toolbox" and len(relevance) == 3
    lat, lon = BERLIN
    by_distance = await found(ctx, latitude=lat, longitude=lon, sort="distance")
    assert set(by_distance[:2]) == {"Cordless drill", "Toolbox"}
    assert by_distance[2:5] == ["Hammer drill", "Garden chairs", "Bicycle"]
    # Listings without a place come last.
    assert set(by_distance[5:]) == {"Wanted: ladder", "Café table"}


PAGED_QUERIES: list[dict[str, Any]] = [
    {"sort": "recent", "status": None},
    {"sort": "relevance", "text": "drill", "status": None},
    {"sort": "distance", "latitude": BERLIN[0], "longitude": BERLIN[1]},
    {"sort": "distance", "latitude": BERLIN[0], "longitude": BERLIN[1], "text": "drill"},
    {"sort": "recent", "category": "furniture"},
]


@pytest.mark.spec("Kula search: pagination")
async def test_cursor_pages_have_no_duplicates_or_gaps(
    ctx: NodeContext, catalogue: dict[str, Listing]
) -> None:
    for query in PAGED_QUERIES:
        whole = await search(ctx, SearchQuery(**{**query, "limit": 100}))
        assert whole.next_cursor is None and whole.hits
        expected = [hit.listing.id for hit in whole.hits]
        collected: list[str] = []
        after = None
        for _ in range(len(expected) + 1):
            page = await search(ctx, SearchQuery(**{**query, "limit": 2, "after": after}))
            collected += [hit.listing.id for hit in page.hits]
            if page.next_cursor is None:
                break
            # The cursor travels as text, as it would through the API.
            after = decode_cursor(page.next_cursor)
        assert collected == expected, query


# --- exchange messages ------------------------------------------------------------------

SECOND = "2030-01-01T00:00:00Z"
EARLIER = "2029-12-31T23:59:59Z"


def exchange_row(exchange_id: str) -> Exchange:
    return Exchange(
        id=exchange_id, proposal_iri="https://a.example/listings/1", listing_seq=None,
        proposer_iri="https://a.example/users/alice", responder_iri="https://b.example/users/bob",
        mode="give", state="accepted", pending_offer_iri=None, pending_offer_role=None,
        agreement_iri=None, agreement=None, quantity=1, starts_at=None, ends_at=None,
        holds_availability=False, reason=None, created_at=SECOND, updated_at=SECOND,
    )


def message(exchange_id: str, iri: str, published: str) -> ExchangeMessage:
    return ExchangeMessage(
        iri=iri, exchange_id=exchange_id, author_iri="https://a.example/users/alice",
        content=iri, published=published, document={"id": iri, "type": "Note"},
    )


async def listed_messages(storage: Storage, exchange_id: str) -> list[str]:
    async with storage.read() as session:
        return [m.iri for m in await session.list_messages(exchange_id)]


@pytest.mark.spec("Kula exchanges: messages between the parties")
async def test_messages_within_one_second_are_listed_in_the_order_they_were_stored(
    ctx: NodeContext,
) -> None:
    # Stored in an order their IRIs do not sort in, each in its own transaction
    # as sending or receiving one does.
    stored = ["https://a.example/notes/m", "https://b.example/notes/z",
              "https://a.example/notes/a"]
    async with ctx.storage.transaction() as tx:
        await tx.save_exchange(exchange_row("x1"))
    for iri in stored:
        async with ctx.storage.transaction() as tx:
            assert await tx.add_message(message("x1", iri, SECOND))
    async with ctx.storage.transaction() as tx:
        assert not await tx.add_message(message("x1", stored[0], SECOND)), "stored once"
    listed = await listed_messages(ctx.storage, "x1")
    assert listed == stored
    async with ctx.storage.read() as session:
        assert {m.published for m in await session.list_messages("x1")} == {SECOND}


ARRIVAL_MIGRATION = 10


@pytest.mark.spec("Kula storage: migrations")
async def test_arrival_migration_numbers_existing_messages_in_their_listed_order(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AsyncExitStack() as stack:
        storage: Storage
        if backend == "sqlite":
            storage = SqliteStorage(tmp_path / "kula.sqlite3")
        else:
            storage = PostgresStorage(await stack.enter_async_context(fresh_database()))
        everything = migration_files

        def before_arrival(dialect: str) -> list[tuple[int, str, str]]:
            return [m for m in everything(dialect) if m[0] < ARRIVAL_MIGRATION]

        monkeypatch.setattr(sqlite_module, "migration_files", before_arrival)
        monkeypatch.setattr(postgres_module, "migration_files", before_arrival)
        await storage.open()
        stack.push_async_callback(storage.close)
        assert await storage.schema_version() == ARRIVAL_MIGRATION - 1
        async with storage.transaction() as tx:
            await tx.save_exchange(exchange_row("x1"))
            await tx.save_exchange(exchange_row("x2"))
            # Stored in neither their published nor their IRI order.
            for iri, published in [("https://a.example/notes/b", SECOND),
                                   ("https://a.example/notes/c", EARLIER),
                                   ("https://a.example/notes/a", SECOND)]:
                await tx.add_message(message("x1", iri, published))
            await tx.add_message(message("x2", "https://a.example/notes/x", SECOND))

        monkeypatch.setattr(sqlite_module, "migration_files", everything)
        monkeypatch.setattr(postgres_module, "migration_files", everything)
        assert ARRIVAL_MIGRATION in await storage.migrate()
        # Listed as before the migration: by published time, then IRI.
        old_order = ["https://a.example/notes/c", "https://a.example/notes/a",
                     "https://a.example/notes/b"]
        assert await listed_messages(storage, "x1") == old_order
        # A message stored now comes after them, whatever its published time.
        async with storage.transaction() as tx:
            assert await tx.add_message(message("x1", "https://a.example/notes/0", EARLIER))
        assert await listed_messages(storage, "x1") == [*old_order, "https://a.example/notes/0"]
        assert await listed_messages(storage, "x2") == ["https://a.example/notes/x"]


# --- credential deletions that overtake their credential ---------------------------------

VOUCH = "https://hill.example/vouches/4"
BOB, MALLORY = "https://hill.example/users/bob", "https://hill.example/users/mallory"


@pytest.mark.spec("Kula SPEC §11.4: vouches")
async def test_early_credential_deletions_are_kept_per_actor_used_once_and_forgotten(
    ctx: NodeContext,
) -> None:
    async with ctx.storage.transaction() as tx:
        await tx.remember_credential_deletion(VOUCH, BOB, "2025-01-01T00:00:00Z",
                                              forget_before="2024-12-01T00:00:00Z")
        # Another actor's word is kept apart and cannot crowd out the issuer's.
        await tx.remember_credential_deletion(VOUCH, MALLORY, "2025-01-02T00:00:00Z",
                                              forget_before="2024-12-02T00:00:00Z")
        await tx.remember_credential_deletion(VOUCH, BOB, "2025-01-03T00:00:00Z",
                                              forget_before="2024-12-03T00:00:00Z")
    async with ctx.storage.transaction() as tx:
        assert await tx.take_credential_deletion(VOUCH, BOB) == "2025-01-01T00:00:00Z"
        assert await tx.take_credential_deletion(VOUCH, BOB) is None, "used up"
    async with ctx.storage.transaction() as tx:
        later = "https://hill.example/vouches/5"
        await tx.remember_credential_deletion(later, BOB, "2025-03-01T00:00:00Z",
                                              forget_before="2025-02-01T00:00:00Z")
        assert await tx.take_credential_deletion(VOUCH, MALLORY) is None, "past retention"
        assert await tx.take_credential_deletion(later, BOB) == "2025-03-01T00:00:00Z"
