"""A month of a rental's or loan's availability: the days its bookings (the
dates agreed exchanges hold) take, and the days its availability windows open."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from node.timeutil import parse_text

_FIRST_YEAR, _LAST_YEAR = 2000, 2200


@dataclass(frozen=True)
class Day:
    number: int
    iso: str
    booked: bool
    #: False when the listing names availability windows and none covers the day.
    open: bool
    today: bool


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    #: Weeks from Monday; None pads the days of the neighbouring months.
    weeks: list[list[Day | None]]
    previous: str
    next: str
    has_windows: bool


def parse_month(value: str | None, today: date) -> tuple[int, int]:
    """``YYYY-MM`` from a query string, or this month when absent or malformed."""
    if value and len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit():
        year, month = int(value[:4]), int(value[5:])
        if _FIRST_YEAR <= year <= _LAST_YEAR and 1 <= month <= 12:
            return year, month
    return today.year, today.month


def _spans(windows: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    spans = []
    for window in windows:
        try:
            spans.append((parse_text(window["start"]), parse_text(window["end"])))
        except (KeyError, TypeError, ValueError):
            continue
    return spans


def _touches(day: date, spans: list[tuple[datetime, datetime]]) -> bool:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return any(low < end and start < high for low, high in spans)


def _shift(year: int, month: int, by: int) -> str:
    index = year * 12 + (month - 1) + by
    year, month = divmod(index, 12)
    year = min(max(year, _FIRST_YEAR), _LAST_YEAR)
    return f"{year:04d}-{month + 1:02d}"


def month_view(fields: dict[str, Any], year: int, month: int, today: date) -> Month:
    booked = _spans(fields.get("booked") or [])
    windows = _spans(fields.get("availability") or [])
    weeks: list[list[Day | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([
            Day(
                number=day.day, iso=day.isoformat(), booked=_touches(day, booked),
                open=not windows or _touches(day, windows), today=day == today,
            ) if day.month == month else None
            for day in week
        ])
    return Month(
        year=year, month=month, weeks=weeks, previous=_shift(year, month, -1),
        next=_shift(year, month, 1), has_windows=bool(windows),
    )
