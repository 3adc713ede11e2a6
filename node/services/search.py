"""Listing search: query parameters in, a page of hits and the next cursor out."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from node.errors import ValidationFailed
from node.services.context import NodeContext
from node.storage.records import SearchHit, SearchQuery
from protocol.vocab import ExchangeMode, ListingStatus, Purpose

MAX_LIMIT = 100
SORTS = ("relevance", "recent", "distance")


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None


def _bad(name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        f"query parameter {name!r}: {reason}", errors=[{"pointer": f"/{name}", "reason": reason}]
    )


def _float(params: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    if name not in params:
        return None
    try:
        value = float(params[name])
    except ValueError:
        raise _bad(name, "must be a number") from None
    if not low <= value <= high:
        raise _bad(name, f"must be between {low} and {high}")
    return value


def _choice(params: Mapping[str, str], name: str, allowed: list[str]) -> str | None:
    value = params.get(name)
    if value is not None and value not in allowed:
        raise _bad(name, f"must be one of {', '.join(allowed)}")
    return value


def encode_cursor(hit: SearchHit) -> str:
    raw = json.dumps([hit.sort_key, hit.listing.seq]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key, seq = json.loads(raw)
        position = float(sort_key), int(seq)
    except (ValueError, TypeError, OverflowError):
        raise _bad("cursor", "is not a cursor this node issued") from None
    # Forged values beyond SQLite's integer range would fail inside the query.
    if not (math.isfinite(position[0]) and 0 <= position[1] < 2**62):
        raise _bad("cursor", "is not a cursor this node issued")
    return position


def parse_query(params: Mapping[str, str]) -> SearchQuery:
    text = params.get("q", "")
    if len(text) > 200:
        raise _bad("q", "must be at most 200 characters")
    limit = 20
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError:
            raise _bad("limit", "must be an integer") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise _bad("limit", f"must be between 1 and {MAX_LIMIT}")
    latitude = _float(params, "lat", -90, 90)
    longitude = _float(params, "lon", -180, 180)
    radius = _float(params, "radius_km", 0.01, 20_000)
    if (latitude is None) != (longitude is None):
        raise _bad("lat", "lat and lon go together")
    if radius is not None and latitude is None:
        raise _bad("radius_km", "needs lat and lon")
    status = _choice(params, "status", [s.value for s in ListingStatus] + ["any"]) or "available"
    sort = _choice(params, "sort", list(SORTS)) or ("relevance" if text.strip() else "recent")
    if sort == "distance" and latitude is None:
        raise _bad("sort", "sorting by distance needs lat and lon")
    currency = params.get("currency")
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        raise _bad("currency", "must be an ISO 4217 code such as EUR")
    category = params.get("category")
    if category is not None and not 0 < len(category) <= 40:
        raise _bad("category", "must be 1 to 40 characters")
    return SearchQuery(
        text=text,
        purpose=_choice(params, "purpose", [p.value for p in Purpose]),
        mode=_choice(params, "mode", [m.value for m in ExchangeMode]),
        category=category,
        status=None if status == "any" else status,
        min_price=_float(params, "min_price", 0, 1e12),
        max_price=_float(params, "max_price", 0, 1e12),
        currency=currency.upper() if currency else None,
        latitude=latitude,
        longitude=longitude,
        radius_km=radius,
        sort=sort,
        limit=limit,
        after=decode_cursor(params["cursor"]) if "cursor" in params else None,
    )


async def search(ctx: NodeContext, query: SearchQuery) -> SearchPage:
    # One extra row tells whether another page exists.
    async with ctx.storage.read() as session:
        hits = await session.search_listings(replace(query, limit=query.limit + 1))
    more = len(hits) > query.limit
    hits = hits[: query.limit]
    return SearchPage(hits=hits, next_cursor=encode_cursor(hits[-1]) if more and hits else None)
