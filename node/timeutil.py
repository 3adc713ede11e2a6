"""Timestamps as the node stores and publishes them: UTC, RFC 3339, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP_FORMAT)


# (second, its text): the inbox stamps every activity and the access log
# every request, many in the same second.
_last_second: tuple[int, str] = (-1, "")


def second_text(second: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC for seconds since the epoch, formatted
    once per second."""
    global _last_second
    if _last_second[0] != second:
        _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return _last_second[1]


def now_text() -> str:
    return second_text(int(time.time())) + "Z"


def parse_text(text: str) -> datetime:
    """Parse an RFC 3339 date-time; naive values are refused by the schemas first."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def later_text(**delta: float) -> str:
    return to_text(utc_now() + timedelta(**delta))
