"""Listing search on PostgreSQL: a weighted ``tsvector`` per listing behind a
GIN index, the same filters as SQLite, and the same haversine for distance.

Words are split and folded here, not by the server, so that both backends
agree on what a word is whatever extensions (``unaccent``) or locale the
server has: lowercase, diacritics removed, split on anything that is not a
letter or digit (SQLite's ``unicode61 remove_diacritics 2`` does the same).
Sort keys follow the SQLite backend: larger first, ties broken by ``seq``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from node.storage.queries.listings import listing_from_row
from node.storage.records import SearchHit, SearchQuery
from node.storage.search_filters import listing_filters

if TYPE_CHECKING:
    from node.storage.postgres import PostgresSession

_TYPED_WORD = re.compile(r"\w+", re.UNICODE)
# A word as unicode61 sees it: letters and digits; "_" separates, as in SQLite.
_INDEXED_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: ts_rank_cd weights in {D, C, B, A} order: title (A) 10, categories (B) 4,
#: description (D) 1, the column weights the SQLite backend gives bm25().
RANK_WEIGHTS = "{0.1, 0, 0.4, 1.0}"


def fold(text: str) -> str:
    """Lowercase and strip diacritics (``Café`` -> ``cafe``)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def index_words(text: str) -> str:
    """The words of ``text`` as the index stores them, space-separated."""
    return " ".join(_INDEXED_WORD.findall(fold(text)))


def tsquery_text(text: str) -> str | None:
    """Turn what a member typed into a safe ``tsquery``: every word must match,
    the last one as a prefix (search-as-you-type). Only letters and digits
    reach the query, so no input can make it fail. A typed word that folds
    into several (``foo_bar``) must match as a phrase, as in FTS5."""
    typed = _TYPED_WORD.findall(text)[:16]
    phrases = [
        [f"'{part}'" for part in parts]
        for word in typed
        if (parts := _INDEXED_WORD.findall(fold(word)))
    ]
    if not phrases:
        return None
    phrases[-1][-1] += ":*"
    return " & ".join("(" + " <-> ".join(phrase) + ")" for phrase in phrases)


async def index_listing_postgres(
    session: PostgresSession, seq: int, title: str, content: str, categories: str
) -> None:
    """Store (or replace) the listing's search document."""
    await session._exec(
        "INSERT INTO listings_fts (seq, document) VALUES (?,"
        " setweight(to_tsvector('simple', ?), 'A')"
        " || setweight(to_tsvector('simple', ?), 'B')"
        " || setweight(to_tsvector('simple', ?), 'D'))"
        " ON CONFLICT (seq) DO UPDATE SET document = excluded.document",
        (seq, index_words(title), index_words(categories), index_words(content)),
    )


async def search_listings_postgres(
    session: PostgresSession, query: SearchQuery
) -> list[SearchHit]:
    """The SQLite backend's search, answered by PostgreSQL."""
    where, where_params = listing_filters(query)
    here = (
        [query.latitude, query.longitude]
        if query.latitude is not None and query.longitude is not None
        else []
    )
    select_extra = "NULL::double precision AS distance_km"
    if here:
        select_extra = "kula_distance_km(l.latitude, l.longitude, ?, ?) AS distance_km"
    source, source_params = "listings AS l", []
    match = tsquery_text(query.text)
    if match:
        source = (
            "listings_fts JOIN listings AS l ON l.seq = listings_fts.seq"
            " CROSS JOIN to_tsquery('simple', ?) AS q"
        )
        source_params = [match]
        where.append("listings_fts.document @@ q")

    sort_params: list[Any] = []
    if query.sort == "relevance" and match:
        sort_expr = f"ts_rank_cd('{RANK_WEIGHTS}', listings_fts.document, q)"
    elif query.sort == "distance" and here:
        sort_expr, sort_params = "-kula_distance_km(l.latitude, l.longitude, ?, ?)", here
    else:
        sort_expr = "l.seq"

    outer_where, outer_params = "", []
    if query.after is not None:
        outer_where = "WHERE sort_key < ? OR (sort_key = ? AND seq < ?)"
        outer_params = [float(query.after[0]), float(query.after[0]), int(query.after[1])]
    # One numeric type for every sort order, so cursors compare exactly; "+ 0"
    # turns -0 into 0, as SQLite does, so cursors are the same text on both.
    sql = (
        f"SELECT * FROM (SELECT l.*, {select_extra},"
        f" coalesce(({sort_expr})::double precision, -1e18::double precision) + 0 AS sort_key"
        f" FROM {source} WHERE {' AND '.join(where)}) AS hit"
        f" {outer_where} ORDER BY sort_key DESC, seq DESC LIMIT ?"
    )
    rows = await session._all(
        sql,
        [*here, *sort_params, *source_params, *where_params, *outer_params, query.limit],
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
