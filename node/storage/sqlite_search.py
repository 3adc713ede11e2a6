"""Listing search on SQLite: FTS5 for text, plain indexes for filters, a
bounding box then an exact great-circle distance for the radius filter."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from node.storage.queries.listings import listing_from_row
from node.storage.records import SearchHit, SearchQuery

if TYPE_CHECKING:
    from node.storage.sqlite import SqliteSession

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_match_expression(text: str) -> str | None:
    """Turn what a member typed into a safe FTS5 query: every word must match,
    the last one as a prefix (search-as-you-type). Operators are never passed
    through, so no input can make the MATCH expression fail."""
    words = _WORD.findall(text.lower())[:16]
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_km / 6371.0088)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_km / (6371.0088 * cos_lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


async def search_listings_sqlite(session: SqliteSession, query: SearchQuery) -> list[SearchHit]:
    # Content from blocked hosts disappears from search the moment the block is set.
    where = [
        "l.deleted_at IS NULL",
        "l.origin NOT IN (SELECT host FROM host_policies WHERE policy = 'block')",
    ]
    params: list[Any] = []
    select_extra = "NULL AS distance_km"
    select_params: list[Any] = []
    source = "listings AS l"
    match = fts_match_expression(query.text)
    if match:
        source = "listings_fts JOIN listings AS l ON l.seq = listings_fts.rowid"
        where.append("listings_fts MATCH ?")
        params.append(match)
    for column, value in (
        ("l.purpose", query.purpose),
        ("l.mode", query.mode),
        ("l.status", query.status),
        ("l.price_currency", query.currency),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.category is not None:
        where.append(
            "EXISTS (SELECT 1 FROM listing_categories c WHERE c.listing_seq = l.seq"
            " AND c.category = ?)"
        )
        params.append(query.category)
    if query.min_price is not None:
        where.append("l.price_amount >= ?")
        params.append(query.min_price)
    if query.max_price is not None:
        where.append("coalesce(l.price_amount, 0) <= ?")
        params.append(query.max_price)
    if query.latitude is not None and query.longitude is not None:
        select_extra = "kula_distance_km(l.latitude, l.longitude, ?, ?) AS distance_km"
        select_params = [query.latitude, query.longitude]
        if query.radius_km is not None:
            south, north, west, east = bounding_box(
                query.latitude, query.longitude, query.radius_km
            )
            where.append("l.latitude BETWEEN ? AND ?")
            params.extend([south, north])
            # A box across the antimeridian is not one longitude range; the exact
            # distance below still decides.
            if -180.0 <= west and east <= 180.0:
                where.append("l.longitude BETWEEN ? AND ?")
                params.extend([west, east])
            where.append("kula_distance_km(l.latitude, l.longitude, ?, ?) <= ?")
            params.extend([query.latitude, query.longitude, query.radius_km])

    if query.sort == "relevance" and match:
        # bm25() is smaller for better matches; negate so larger sort keys rank first.
        sort_expr = "-bm25(listings_fts, 10.0, 1.0, 4.0)"
    elif query.sort == "distance" and select_params:
        sort_expr = "-kula_distance_km(l.latitude, l.longitude, ?, ?)"
    else:
        sort_expr = "l.seq"
    sort_params = select_params if "kula_distance_km" in sort_expr else []

    outer_where = ""
    outer_params: list[Any] = []
    if query.after is not None:
        outer_where = "WHERE sort_key < ? OR (sort_key = ? AND seq < ?)"
        outer_params = [query.after[0], query.after[0], query.after[1]]
    sql = (
        f"SELECT * FROM (SELECT l.*, {select_extra}, coalesce({sort_expr}, -1e18) AS sort_key"
        f" FROM {source} WHERE {' AND '.join(where)})"
        f" {outer_where} ORDER BY sort_key DESC, seq DESC LIMIT ?"
    )
    rows = await session._all(
        sql, [*select_params, *sort_params, *params, *outer_params, query.limit]
    )
    hits = []
    for row in rows:
        data = {key: row[key] for key in row.keys() if key not in {"distance_km", "sort_key"}}
        categories, image_ids = await session._links(row["seq"])
        hits.append(
            SearchHit(
                listing=listing_from_row(data, categories, image_ids),
                sort_key=float(row["sort_key"]),
                distance_km=row["distance_km"],
            )
        )
    return hits
