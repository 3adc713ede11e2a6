"""Listing search on SQLite: FTS5 for text, plain indexes for filters, a
bounding box then an exact great-circle distance for the radius filter.
How results are ranked is in :mod:`node.storage.search_ranking`.

Each order walks what it can stop early on: FTS5 newest first for text
(``ORDER BY rowid DESC`` is served by the index itself), the narrow
``listings_search`` index backwards for recent listings, the
``listings_nearby`` index inside a radius. Filters read ``listings_search``,
not the listing rows, which are a page each. ``CROSS JOIN`` keeps the FTS5
table outside, and ``INDEXED BY`` keeps the planner from sorting a whole
status index instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from node.storage.records import SearchHit, SearchQuery
from node.storage.search_filters import bounding_box, listing_filters
from node.storage.search_ranking import (
    CANDIDATES,
    LAST,
    MATCH_WINDOW,
    cursor_clause,
    index_tokens,
    page_of,
    prefix_allowed,
    search_hits,
    typed_words,
    word_weight,
)

if TYPE_CHECKING:
    from node.storage.sqlite import SqliteSession

# FTS5 outside (so its order serves), listings through the narrow search index.
_FTS_SEARCH_JOIN = (
    "listings_fts CROSS JOIN listings AS l INDEXED BY listings_search"
    " ON l.seq = listings_fts.rowid"
)
#: The first circle a nearest-first search looks in, and half the earth's circumference.
FIRST_CIRCLE_KM = 2.0
HALF_EARTH_KM = 20_040.0


def fts_phrases(text: str) -> list[str]:
    """What a member typed as safe FTS5 phrases: every word must match, the
    last one as a prefix (search-as-you-type) from three characters on.
    Operators are never passed through, so no input can make MATCH fail."""
    phrases = [f'"{word.lower()}"' for word in typed_words(text)]
    last_tokens = index_tokens(phrases[-1]) if phrases else []
    if last_tokens and prefix_allowed(last_tokens[-1]):
        phrases[-1] += "*"
    return phrases


def fts_match_expression(text: str) -> str | None:
    """The whole query as one FTS5 MATCH expression, or None without words."""
    phrases = fts_phrases(text)
    return " AND ".join(phrases) if phrases else None


async def search_listings_sqlite(session: SqliteSession, query: SearchQuery) -> list[SearchHit]:
    filters, filter_params = listing_filters(query)
    here = (
        [query.latitude, query.longitude]
        if query.latitude is not None and query.longitude is not None
        else []
    )
    distance = "kula_distance_km(l.latitude, l.longitude, ?, ?)" if here else "NULL"
    phrases = fts_phrases(query.text)
    if phrases and query.sort == "relevance":
        rows = await _by_relevance(session, query, phrases, filters, filter_params, here)
    elif query.sort == "distance" and here:
        rows = await _by_distance(session, query, phrases, here)
    else:
        rows = await _by_recency(session, query, phrases, filters, filter_params, distance, here)
    return await search_hits(session, rows)


async def _by_relevance(
    session: SqliteSession, query: SearchQuery, phrases: list[str],
    filters: list[str], filter_params: list[Any], here: list[float],
) -> list[Any]:
    """Score the candidates (see search_ranking), then read the page's rows.

    One statement: FTS5 takes the window of newest matches, the filters are
    checked on the narrow index in that order until the candidates are
    found, and their titles and categories come from the FTS5 table by rowid.
    """
    # The materialised window is read back in the order it was written,
    # newest first, so LIMIT keeps the newest candidates.
    candidates = await session._all(
        "WITH window AS MATERIALIZED (SELECT rowid AS seq FROM listings_fts"
        " WHERE listings_fts MATCH ? ORDER BY rowid DESC LIMIT ?)"
        " SELECT l.seq AS seq, f.title AS title, f.categories AS categories"
        " FROM window AS w CROSS JOIN listings AS l INDEXED BY listings_search"
        " ON l.seq = w.seq CROSS JOIN listings_fts AS f ON f.rowid = l.seq"
        f" WHERE {' AND '.join(filters)} LIMIT ?",
        [" AND ".join(phrases), MATCH_WINDOW, *filter_params, CANDIDATES],
    )
    # (tokens, matches as a prefix) per typed word; words that fold to nothing
    # score nothing, as on PostgreSQL, which leaves them out.
    words = [
        (tokens, index == len(phrases) - 1 and phrase.endswith("*"))
        for index, phrase in enumerate(phrases) if (tokens := index_tokens(phrase))
    ]
    scored = []
    for row in candidates:
        title, categories = index_tokens(row["title"]), index_tokens(row["categories"])
        score = sum(
            word_weight(_contains(title, tokens, prefix), _contains(categories, tokens, prefix))
            for tokens, prefix in words
        )
        scored.append((float(score), int(row["seq"])))
    page = page_of(scored, query.after, query.limit)
    if not page:
        return []
    distance = "kula_distance_km(l.latitude, l.longitude, ?, ?)" if here else "NULL"
    rows = await session._all(
        f"SELECT l.*, {distance} AS distance_km FROM listings AS l"
        f" WHERE l.seq IN ({', '.join('?' * len(page))})",
        [*here, *(seq for _, seq in page)],
    )
    by_seq = {int(row["seq"]): row for row in rows}
    return [{**dict(by_seq[seq]), "sort_key": score} for score, seq in page if seq in by_seq]


def _contains(found: list[str], tokens: list[str], prefix: bool) -> bool:
    """Whether the token list ``found`` holds the phrase ``tokens`` (its last
    token as a prefix when ``prefix``)."""
    size = len(tokens)
    for start in range(len(found) - size + 1):
        window = found[start:start + size]
        if window[:-1] == tokens[:-1] and (
            window[-1] == tokens[-1] or (prefix and window[-1].startswith(tokens[-1]))
        ):
            return True
    return False


async def _by_recency(
    session: SqliteSession, query: SearchQuery, phrases: list[str],
    filters: list[str], filter_params: list[Any], distance: str, here: list[float],
) -> list[Any]:
    """Newest first; the walk stops once the page is full."""
    where, params = list(filters), list(filter_params)
    if phrases:
        source, order = _FTS_SEARCH_JOIN, "listings_fts.rowid"
        where.insert(0, "listings_fts MATCH ?")
        params.insert(0, " AND ".join(phrases))
    else:
        # Inside a radius the geo index finds the few candidates; otherwise the
        # search index, walked backwards, serves the order and the filters.
        hint = "listings_nearby" if query.radius_km is not None else "listings_search"
        source, order = f"listings AS l INDEXED BY {hint}", "l.seq"
    if query.after is not None:
        where.append(f"{order} < ?")
        params.append(query.after[1])
    sql = (
        f"SELECT l.*, {distance} AS distance_km, l.seq AS sort_key FROM {source}"
        f" WHERE {' AND '.join(where)} ORDER BY {order} DESC LIMIT ?"
    )
    return await session._all(sql, [*here, *params, query.limit])


async def _by_distance(
    session: SqliteSession, query: SearchQuery, phrases: list[str], here: list[float]
) -> list[Any]:
    """Nearest first; rows without a place come last.

    Without text, the search looks in growing circles (:data:`FIRST_CIRCLE_KM`,
    then four times wider) until a circle holds a whole page: those are then
    the nearest of all, and a dense city costs a walk over its centre rather
    than over every listing in the radius.
    """
    if phrases:
        return await _nearest(session, query, phrases, here, None)
    limit_km = query.radius_km
    circle = FIRST_CIRCLE_KM
    while limit_km is None or circle < limit_km:
        if circle >= HALF_EARTH_KM:
            break
        rows = await _nearest(session, query, phrases, here, circle)
        if len(rows) >= query.limit:
            return rows
        circle *= 4
    return await _nearest(session, query, phrases, here, limit_km)


async def _nearest(
    session: SqliteSession, query: SearchQuery, phrases: list[str], here: list[float],
    radius_km: float | None,
) -> list[Any]:
    """One page, nearest first, within ``radius_km`` (None: anywhere). Each
    row's distance is computed once, over a narrow index; only the page's rows
    are read whole."""
    where, params = listing_filters(replace(query, radius_km=None))
    if radius_km is not None:
        south, north, west, east = bounding_box(here[0], here[1], radius_km)
        where.append("l.latitude BETWEEN ? AND ?")
        params += [south, north]
        if -180.0 <= west and east <= 180.0:
            where.append("l.longitude BETWEEN ? AND ?")
            params += [west, east]
    if phrases:
        source = _FTS_SEARCH_JOIN
        where.insert(0, "listings_fts MATCH ?")
        params.insert(0, " AND ".join(phrases))
    else:
        index = "listings_nearby" if radius_km is not None else "listings_search"
        source = f"listings AS l INDEXED BY {index}"
    outer_where, outer_params = cursor_clause(query.after)
    within = "" if radius_km is None else "WHERE distance_km <= ?"
    radius = [] if radius_km is None else [float(radius_km)]
    sql = (
        "WITH located AS MATERIALIZED (SELECT l.seq AS seq,"
        f" kula_distance_km(l.latitude, l.longitude, ?, ?) AS distance_km FROM {source}"
        f" WHERE {' AND '.join(where)}),"
        " ranked AS (SELECT seq, distance_km, coalesce(-distance_km, ?) AS sort_key"
        f" FROM located {within})"
        " SELECT l.*, page.distance_km, page.sort_key FROM (SELECT * FROM ranked"
        f" {outer_where} ORDER BY sort_key DESC, seq DESC LIMIT ?) AS page"
        " JOIN listings AS l ON l.seq = page.seq ORDER BY page.sort_key DESC, page.seq DESC"
    )
    return await session._all(
        sql, [*here, *params, LAST, *radius, *outer_params, query.limit]
    )
