"""Timestamps as the node stores and publishes them: UTC, RFC 3339, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP_FORMAT)


# (second, its text): the inbox stamps every activity, many in the same second.
_last_stamp: tuple[int, str] = (0, "")


def now_text() -> str:
    global _last_stamp
    second = int(time.time())
    if _last_stamp[0] != second:
        _last_stamp = (second, time.strftime(_STAMP_FORMAT, time.gmtime(second)))
    return _last_stamp[1]


def parse_text(text: str) -> datetime:
    """Parse an RFC 3339 date-time; naive values are refused by the schemas first."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def later_text(**delta: float) -> str:
    return to_text(utc_now() + timedelta(**delta))
