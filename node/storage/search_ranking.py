"""How listing search ranks, the same on both backends.

**Relevance** (``sort=relevance``, the default with text) is decided among
candidates: of the :data:`MATCH_WINDOW` newest listings that match every
word, the :data:`CANDIDATES` newest that also pass every filter. Each typed
word scores the weight of the best field it appears in (title 10,
categories 4, description 1), a listing's score is the sum, and ties go to
the newer listing. So a listing with every word in its title comes first,
and among equals the newest does. The window only narrows words so common
that thousands of listings use them; ``sort=recent`` reaches every match.

Why not bm25 over every match: the inverse document frequencies it needs
cost a pass over the whole posting list of each word, and ranking every
match costs a score per matching row. For two common words at a million
listings that is about a second; walking the index newest first and
stopping at the candidate bound costs a few milliseconds, whatever the
size of the catalogue.

**Search as you type**: the last word matches as a prefix once it has
:data:`MIN_PREFIX` characters (``dri`` finds drill); a shorter last word
must match whole, because a one- or two-letter prefix stands for a large
share of the vocabulary and costs a pass over all of it.

**Recent** walks listings newest first and stops at the page;
**distance** computes the exact distance of the rows a radius leaves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from node.storage.queries._base import QueryBase, Row
from node.storage.queries.listings import listing_from_row
from node.storage.records import SearchHit

#: How many listings relevance ranks: the newest that pass the filters...
CANDIDATES = 1000
#: ...among this many newest listings that match the words.
MATCH_WINDOW = 5000
#: What a typed word scores by the best field it appears in.
TITLE_WEIGHT, CATEGORY_WEIGHT, DESCRIPTION_WEIGHT = 10, 4, 1
#: Shortest last word that still matches as a prefix.
MIN_PREFIX = 3
#: Most typed words a query uses; the rest are ignored.
MAX_WORDS = 16
#: Sort key of rows without one (no place, for distance): after all others.
LAST = -1e18

_TYPED_WORD = re.compile(r"\w+", re.UNICODE)
# A word as the indexes see it: letters and digits; "_" separates, as in
# SQLite's unicode61 tokenizer.
_INDEXED_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase and strip diacritics (``Café`` -> ``cafe``), as both indexes do."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def index_tokens(text: str) -> list[str]:
    """The tokens of ``text`` as the indexes store them."""
    return _INDEXED_WORD.findall(fold(text))


def typed_words(text: str) -> list[str]:
    """The words of a query as typed, at most :data:`MAX_WORDS`."""
    return _TYPED_WORD.findall(text)[:MAX_WORDS]


def prefix_allowed(last_token: str) -> bool:
    return len(last_token) >= MIN_PREFIX


def word_weight(in_title: bool, in_categories: bool) -> int:
    if in_title:
        return TITLE_WEIGHT
    return CATEGORY_WEIGHT if in_categories else DESCRIPTION_WEIGHT


def page_of(
    scored: Sequence[tuple[float, int]], after: tuple[float, int] | None, limit: int
) -> list[tuple[float, int]]:
    """``(score, seq)`` pairs best first, resumed after the cursor, one page long."""
    ranked = sorted(scored, reverse=True)
    if after is not None:
        ranked = [pair for pair in ranked if pair < (after[0], after[1])]
    return ranked[:limit]


def score_expression(checks: Sequence[tuple[str, str]]) -> str:
    """SQL summing, per typed word, the weight of its best field; each check
    is ``(in title, in categories)`` as SQL conditions."""
    return " + ".join(
        f"(CASE WHEN {in_title} THEN {TITLE_WEIGHT} WHEN {in_categories}"
        f" THEN {CATEGORY_WEIGHT} ELSE {DESCRIPTION_WEIGHT} END)"
        for in_title, in_categories in checks
    )


def cursor_clause(after: tuple[float, int] | None) -> tuple[str, list[Any]]:
    """The outer WHERE that resumes after ``(sort_key, seq)``."""
    if after is None:
        return "", []
    return "WHERE sort_key < ? OR (sort_key = ? AND seq < ?)", [after[0], after[0], after[1]]


async def search_hits(session: QueryBase, rows: Sequence[Row]) -> list[SearchHit]:
    """Hits from result rows (listing columns plus ``distance_km`` and
    ``sort_key``), with every hit's categories and images read in two queries."""
    seqs = [int(row["seq"]) for row in rows]
    categories: dict[int, list[str]] = {seq: [] for seq in seqs}
    images: dict[int, list[str]] = {seq: [] for seq in seqs}
    if seqs:
        marks = ", ".join("?" * len(seqs))
        for row in await session._all(
            f"SELECT listing_seq, category FROM listing_categories WHERE listing_seq IN ({marks})"
            " ORDER BY listing_seq, category", seqs,
        ):
            categories[int(row["listing_seq"])].append(row["category"])
        for row in await session._all(
            f"SELECT listing_seq, image_id FROM listing_images WHERE listing_seq IN ({marks})"
            " ORDER BY listing_seq, position", seqs,
        ):
            images[int(row["listing_seq"])].append(row["image_id"])
    return [
        SearchHit(
            listing=listing_from_row(
                _listing_columns(row), tuple(categories[seq]), tuple(images[seq])
            ),
            sort_key=float(row["sort_key"]),
            distance_km=row["distance_km"],
        )
        for seq, row in zip(seqs, rows, strict=True)
    ]


def _listing_columns(row: Row) -> Mapping[str, Any]:
    return {key: row[key] for key in row.keys() if key not in {"distance_km", "sort_key"}}
