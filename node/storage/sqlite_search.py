"""Listing search on SQLite: FTS5 for text, plain indexes for filters, a
bounding box then an exact great-circle distance for the radius filter."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from node.storage.queries.listings import listing_from_row
from node.storage.records import SearchHit, SearchQuery
from node.storage.search_filters import listing_filters

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


async def search_listings_sqlite(session: SqliteSession, query: SearchQuery) -> list[SearchHit]:
    filters, filter_params = listing_filters(query)
    where: list[str] = []
    params: list[Any] = []
    select_extra = "NULL AS distance_km"
    select_params: list[Any] = []
    source = "listings AS l"
    match = fts_match_expression(query.text)
    if match:
        source = "listings_fts JOIN listings AS l ON l.seq = listings_fts.rowid"
        where.append("listings_fts MATCH ?")
        params.append(match)
    where += filters
    params += filter_params
    if query.latitude is not None and query.longitude is not None:
        select_extra = "kula_distance_km(l.latitude, l.longitude, ?, ?) AS distance_km"
        select_params = [query.latitude, query.longitude]

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
