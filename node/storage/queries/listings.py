"""Listings, local and federated, with their categories and images."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import Listing

_SCALAR_COLUMNS = (
    "id, iri, author_iri, member_id, origin, purpose, mode, status, title, content,"
    " price_amount, price_currency, latitude, longitude, expires_at, published_at, updated_at"
)


def listing_from_row(row: Row, categories: tuple[str, ...], image_ids: tuple[str, ...]) -> Listing:
    data = dict(row)
    data["fields"] = loads(data["fields"])
    data["document"] = loads(data["document"])
    return Listing(**data, categories=categories, image_ids=image_ids)


class ListingQueries(QueryBase):
    #: PostgreSQL appends ``FOR UPDATE``; SQLite's single writer needs nothing.
    row_lock_clause = ""

    async def lock_listing(self, seq: int) -> None:
        """Hold a listing's row until the transaction ends, so two exchanges
        cannot both take its last item or the same dates."""
        await self._one(f"SELECT seq FROM listings WHERE seq = ?{self.row_lock_clause}", (seq,))

    async def insert_listing(self, listing: Listing) -> int:
        """Store a listing with its categories and images; return its ``seq``."""
        values = asdict(listing)
        seq = await self._insert(
            f"INSERT INTO listings ({_SCALAR_COLUMNS}, fields, document)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (
                *(values[name.strip()] for name in _SCALAR_COLUMNS.split(",")),
                dumps(listing.fields),
                dumps(listing.document),
            ),
        )
        await self._replace_listing_links(seq, listing.categories, listing.image_ids)
        return seq

    async def update_listing(self, listing: Listing) -> None:
        """Overwrite a stored listing's terms and signed document (matched by ``seq``)."""
        await self._exec(
            "UPDATE listings SET purpose = ?, mode = ?, status = ?, title = ?, content = ?,"
            " price_amount = ?, price_currency = ?, latitude = ?, longitude = ?, expires_at = ?,"
            " updated_at = ?, fields = ?, document = ?, deleted_at = ? WHERE seq = ?",
            (
                listing.purpose,
                listing.mode,
                listing.status,
                listing.title,
                listing.content,
                listing.price_amount,
                listing.price_currency,
                listing.latitude,
                listing.longitude,
                listing.expires_at,
                listing.updated_at,
                dumps(listing.fields),
                dumps(listing.document),
                listing.deleted_at,
                listing.seq,
            ),
        )
        await self._replace_listing_links(listing.seq, listing.categories, listing.image_ids)

    async def _replace_listing_links(
        self, seq: int, categories: tuple[str, ...], image_ids: tuple[str, ...]
    ) -> None:
        await self._exec("DELETE FROM listing_categories WHERE listing_seq = ?", (seq,))
        await self._exec("DELETE FROM listing_images WHERE listing_seq = ?", (seq,))
        for category in categories:
            await self._exec(
                "INSERT INTO listing_categories (listing_seq, category) VALUES (?, ?)",
                (seq, category),
            )
        for position, image_id in enumerate(image_ids):
            await self._exec(
                "INSERT INTO listing_images (listing_seq, image_id, position) VALUES (?, ?, ?)",
                (seq, image_id, position),
            )

    async def _links(self, seq: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        categories = await self._all(
            "SELECT category FROM listing_categories WHERE listing_seq = ? ORDER BY category",
            (seq,),
        )
        images = await self._all(
            "SELECT image_id FROM listing_images WHERE listing_seq = ? ORDER BY position", (seq,)
        )
        return (
            tuple(row["category"] for row in categories),
            tuple(row["image_id"] for row in images),
        )

    async def _listing_where(self, clause: str, params: tuple[Any, ...]) -> Listing | None:
        row = await self._one(f"SELECT * FROM listings WHERE {clause}", params)
        if row is None:
            return None
        categories, image_ids = await self._links(row["seq"])
        return listing_from_row(row, categories, image_ids)

    async def get_listing(self, listing_id: str) -> Listing | None:
        return await self._listing_where("id = ?", (listing_id,))

    async def get_listing_by_iri(self, iri: str) -> Listing | None:
        return await self._listing_where("iri = ?", (iri,))

    async def get_listing_by_seq(self, seq: int) -> Listing | None:
        return await self._listing_where("seq = ?", (seq,))

    async def list_member_listings(
        self, member_id: int, *, before_seq: int | None, limit: int, include_deleted: bool = False
    ) -> list[Listing]:
        sql = "SELECT * FROM listings WHERE member_id = ? AND seq < ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        rows = await self._all(
            sql + " ORDER BY seq DESC LIMIT ?", (member_id, before_seq or 2**62, limit)
        )
        result = []
        for row in rows:
            categories, image_ids = await self._links(row["seq"])
            result.append(listing_from_row(row, categories, image_ids))
        return result

    async def listings_due_to_expire(self, now: str, limit: int = 100) -> list[Listing]:
        rows = await self._all(
            "SELECT * FROM listings WHERE member_id IS NOT NULL AND deleted_at IS NULL"
            " AND status IN ('available', 'reserved') AND expires_at IS NOT NULL"
            " AND expires_at <= ? ORDER BY expires_at LIMIT ?",
            (now, limit),
        )
        result = []
        for row in rows:
            categories, image_ids = await self._links(row["seq"])
            result.append(listing_from_row(row, categories, image_ids))
        return result

    async def count_local_listings(self) -> int:
        row = await self._one(
            "SELECT count(*) AS n FROM listings WHERE member_id IS NOT NULL AND deleted_at IS NULL"
        )
        return int(row["n"]) if row else 0

    async def remote_listing_seqs_of_host(self, host: str) -> list[int]:
        rows = await self._all(
            "SELECT seq FROM listings WHERE origin = ? AND member_id IS NULL", (host,)
        )
        return [int(row["seq"]) for row in rows]

    async def delete_remote_listings_of_host(self, host: str) -> int:
        return await self._exec(
            "DELETE FROM listings WHERE origin = ? AND member_id IS NULL", (host,)
        )
