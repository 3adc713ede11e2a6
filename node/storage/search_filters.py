"""The listing-search filters both backends share: portable SQL with ``?``
placeholders over the ``listings AS l`` alias. Only full-text matching and
ranking differ per backend."""

from __future__ import annotations

import math
from typing import Any

from node.storage.records import SearchQuery

EARTH_RADIUS_KM = 6371.0088


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box around a circle, for an index pre-filter."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def listing_filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their parameters for everything but the text match."""
    # Content from blocked hosts disappears from search the moment the block is set.
    where = [
        "l.deleted_at IS NULL",
        "l.origin NOT IN (SELECT host FROM host_policies WHERE policy = 'block')",
    ]
    params: list[Any] = []
    for column, value in (
        ("l.purpose", query.purpose),
        ("l.mode", query.mode),
        ("l.status", query.status),
        ("l.price_currency", query.currency),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.local_only:
        where.append("l.member_id IS NOT NULL")
    if query.category is not None:
        where.append(
            "EXISTS (SELECT 1 FROM listing_categories c WHERE c.listing_seq = l.seq"
            " AND c.category = ?)"
        )
        params.append(query.category)
    if query.min_price is not None:
        where.append("l.price_amount >= ?")
        params.append(float(query.min_price))
    if query.max_price is not None:
        where.append("coalesce(l.price_amount, 0) <= ?")
        params.append(float(query.max_price))
    if query.latitude is not None and query.longitude is not None and query.radius_km is not None:
        south, north, west, east = bounding_box(query.latitude, query.longitude, query.radius_km)
        where.append("l.latitude BETWEEN ? AND ?")
        params.extend([south, north])
        # A box across the antimeridian is not one longitude range; the exact
        # distance below still decides.
        if -180.0 <= west and east <= 180.0:
            where.append("l.longitude BETWEEN ? AND ?")
            params.extend([west, east])
        where.append("kula_distance_km(l.latitude, l.longitude, ?, ?) <= ?")
        params.extend([query.latitude, query.longitude, float(query.radius_km)])
    return where, params
