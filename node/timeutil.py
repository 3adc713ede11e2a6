"""Timestamps as the node stores and publishes them: UTC, RFC 3339, ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_text() -> str:
    return to_text(utc_now())


def parse_text(text: str) -> datetime:
    """Parse an RFC 3339 date-time; naive values are refused by the schemas first."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def later_text(**delta: float) -> str:
    return to_text(utc_now() + timedelta(**delta))
