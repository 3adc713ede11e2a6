"""Listing search on PostgreSQL: a weighted ``tsvector`` per listing behind a
GIN index, the same filters as SQLite, and the same haversine for distance.

Words are split and folded here, not by the server, so that both backends
agree on what a word is whatever extensions (``unaccent``) or locale the
server has: lowercase, diacritics removed, split on anything that is not a
letter or digit (SQLite's ``unicode61 remove_diacritics 2`` does the same).
Sort keys follow the SQLite backend: larger first, ties broken by ``seq``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from node.storage.records import SearchHit, SearchQuery
from node.storage.search_filters import listing_filters
from node.storage.search_ranking import (
    CANDIDATES,
    MATCH_WINDOW,
    cursor_clause,
    fold,
    index_tokens,
    prefix_allowed,
    score_expression,
    search_hits,
    typed_words,
)

if TYPE_CHECKING:
    from node.storage.postgres import PostgresSession

__all__ = ["fold", "index_words", "search_listings_postgres", "tsquery_text"]


def index_words(text: str) -> str:
    """The words of ``text`` as the index stores them, space-separated."""
    return " ".join(index_tokens(text))


def _word_queries(text: str, weight: str = "") -> list[str]:
    """One ``tsquery`` per typed word (a phrase when it folds into several),
    the last one a prefix from three characters on; ``weight`` (``A``, ``B``)
    restricts them to the title or the categories. Only letters and digits
    reach the query, so no input can make it fail."""
    phrases = [parts for word in typed_words(text) if (parts := index_tokens(word))]
    queries = []
    for position, parts in enumerate(phrases):
        marks = [weight] * len(parts)
        if position == len(phrases) - 1 and prefix_allowed(parts[-1]):
            marks[-1] = "*" + weight
        queries.append(" <-> ".join(
            f"'{part}':{mark}" if mark else f"'{part}'" for part, mark in zip(parts, marks,
                                                                             strict=True)
        ))
    return queries


def tsquery_text(text: str) -> str | None:
    """Turn what a member typed into a safe ``tsquery``: every word must match,
    the last one as a prefix (search-as-you-type). A typed word that folds
    into several (``foo_bar``) must match as a phrase, as in FTS5."""
    queries = _word_queries(text)
    return " & ".join(f"({query})" for query in queries) if queries else None


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
    match = tsquery_text(query.text)
    if match and query.sort == "relevance":
        return await search_hits(session, await _by_relevance(session, query, match))
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
    if match:
        source = (
            "listings_fts JOIN listings AS l ON l.seq = listings_fts.seq"
            " CROSS JOIN to_tsquery('simple', ?) AS q"
        )
        source_params = [match]
        where.append("listings_fts.document @@ q")

    sort_params: list[Any] = []
    if query.sort == "distance" and here:
        sort_expr, sort_params = "-kula_distance_km(l.latitude, l.longitude, ?, ?)", here
    else:
        sort_expr = "l.seq"
    outer_where, outer_params = cursor_clause(query.after)
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
        [*here, *sort_params, *source_params, *where_params, *_typed(outer_params),
         query.limit],
    )
    return await search_hits(session, rows)


async def _by_relevance(session: PostgresSession, query: SearchQuery, match: str) -> list[Any]:
    """The candidates and scores of :mod:`node.storage.search_ranking`."""
    where, where_params = listing_filters(query)
    here = (
        [query.latitude, query.longitude]
        if query.latitude is not None and query.longitude is not None
        else []
    )
    distance = "kula_distance_km(l.latitude, l.longitude, ?, ?)" if here else "NULL"
    checks, check_params = [], []
    for in_title, in_categories in zip(
        _word_queries(query.text, "A"), _word_queries(query.text, "B"), strict=True
    ):
        checks.append(("f.document @@ to_tsquery('simple', ?)",
                       "f.document @@ to_tsquery('simple', ?)"))
        check_params += [in_title, in_categories]
    outer_where, outer_params = cursor_clause(query.after)
    sql = (
        "WITH matches AS MATERIALIZED (SELECT seq FROM listings_fts"
        " WHERE document @@ to_tsquery('simple', ?) ORDER BY seq DESC LIMIT ?),"
        " candidates AS MATERIALIZED (SELECT l.seq FROM matches AS m"
        f" JOIN listings AS l ON l.seq = m.seq WHERE {' AND '.join(where)}"
        " ORDER BY l.seq DESC LIMIT ?),"
        f" scored AS (SELECT c.seq, ({score_expression(checks)})::double precision AS sort_key"
        " FROM candidates AS c JOIN listings_fts AS f ON f.seq = c.seq)"
        f" SELECT l.*, {distance}::double precision AS distance_km, page.sort_key"
        f" FROM (SELECT * FROM scored {outer_where} ORDER BY sort_key DESC, seq DESC LIMIT ?)"
        " AS page JOIN listings AS l ON l.seq = page.seq"
        " ORDER BY page.sort_key DESC, page.seq DESC"
    )
    return await session._all(sql, [
        match, MATCH_WINDOW, *where_params, CANDIDATES, *check_params, *here,
        *_typed(outer_params), query.limit,
    ])


def _typed(cursor_params: list[Any]) -> list[Any]:
    """Cursor values as PostgreSQL compares them: the key a float, seq an integer."""
    if not cursor_params:
        return []
    key, same_key, seq = cursor_params
    return [float(key), float(same_key), int(seq)]
