"""The figures ``/metrics`` reads from the database: queues, federation, members.

Every query is a cheap aggregate over an indexed column or a small table and
is portable between SQLite and PostgreSQL; grouping of free-text values (inbox
outcomes such as ``ignored: nobody here follows the author``) happens here
in Python, so the metric labels stay a short, fixed set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from node.storage.base import Session
from node.timeutil import parse_text

#: States a delivery row moves through (``node.federation.delivery``).
DELIVERY_STATES = ("new", "sending", "retrying", "delivered", "failed")
#: States of a persisted job (``node.workers.jobs``).
JOB_STATES = ("new", "running", "retrying", "done", "failed")
#: What processing an inbound activity came to; ``pending`` before it ran.
INBOX_OUTCOMES = ("pending", "applied", "ignored", "rejected", "unsupported", "other")
#: The class of the last HTTP answer to a delivery; ``none`` before any, or a network error.
RESPONSE_CLASSES = ("2xx", "3xx", "4xx", "5xx", "none")
_PENDING_DELIVERY = ("new", "retrying", "sending")
_PENDING_JOB = ("new", "retrying", "running")


@dataclass
class NodeFigures:
    """A snapshot of the database-derived figures."""

    deliveries: dict[str, int] = field(default_factory=dict)
    delivery_attempts: dict[str, int] = field(default_factory=dict)
    delivery_last_response: dict[str, int] = field(default_factory=dict)
    failing_hosts: int = 0
    oldest_pending_delivery: datetime | None = None
    jobs: dict[str, int] = field(default_factory=dict)
    oldest_pending_job: datetime | None = None
    inbox_activities: dict[str, int] = field(default_factory=dict)
    remote_actors: int = 0
    #: Members by ``active`` / ``suspended``.
    members: dict[str, int] = field(default_factory=dict)
    #: Listings not deleted, by ``(origin, status)``, origin ``local`` or ``remote``.
    listings: dict[tuple[str, str], int] = field(default_factory=dict)
    peers: int = 0


def _zeroed(keys: tuple[str, ...]) -> dict[str, int]:
    # Known states are always reported, so a dashboard sees 0 rather than a gap.
    return dict.fromkeys(keys, 0)


def _outcome_class(outcome: str | None) -> str:
    if outcome is None:
        return "pending"
    head = outcome.split(":", 1)[0].strip()
    return head if head in INBOX_OUTCOMES else "other"


def _response_class(status: int | None) -> str:
    if status is None or not 200 <= status < 600:
        return "none"
    return f"{status // 100}xx"


def _moment(text: str | None) -> datetime | None:
    return None if text is None else parse_text(text)


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


async def _count(session: Session, sql: str) -> int:
    row = await session._one(sql)
    return 0 if row is None else int(row["n"])


async def read_node_figures(session: Session) -> NodeFigures:
    """Read every database figure in one read session."""
    figures = NodeFigures(
        deliveries=_zeroed(DELIVERY_STATES),
        delivery_attempts=_zeroed(DELIVERY_STATES),
        delivery_last_response=_zeroed(RESPONSE_CLASSES),
        jobs=_zeroed(JOB_STATES),
        inbox_activities=_zeroed(INBOX_OUTCOMES),
        members={"active": 0, "suspended": 0},
    )
    for row in await session._all(
        "SELECT state, count(*) AS n, coalesce(sum(attempts), 0) AS attempts"
        " FROM deliveries GROUP BY state"
    ):
        figures.deliveries[row["state"]] = int(row["n"])
        figures.delivery_attempts[row["state"]] = int(row["attempts"])
    for row in await session._all(
        "SELECT last_status, count(*) AS n FROM deliveries GROUP BY last_status"
    ):
        response_class = _response_class(row["last_status"])
        figures.delivery_last_response[response_class] += int(row["n"])
    figures.failing_hosts = await _count(
        session, "SELECT count(DISTINCT host) AS n FROM deliveries"
        " WHERE state IN ('retrying', 'failed')"
    )
    row = await session._one(
        "SELECT min(created_at) AS oldest FROM deliveries"
        f" WHERE state IN ({_marks(_PENDING_DELIVERY)})", _PENDING_DELIVERY
    )
    figures.oldest_pending_delivery = _moment(None if row is None else row["oldest"])

    for row in await session._all("SELECT state, count(*) AS n FROM jobs GROUP BY state"):
        figures.jobs[row["state"]] = int(row["n"])
    row = await session._one(
        f"SELECT min(created_at) AS oldest FROM jobs WHERE state IN ({_marks(_PENDING_JOB)})",
        _PENDING_JOB,
    )
    figures.oldest_pending_job = _moment(None if row is None else row["oldest"])

    for row in await session._all(
        "SELECT outcome, count(*) AS n FROM inbox_activities GROUP BY outcome"
    ):
        figures.inbox_activities[_outcome_class(row["outcome"])] += int(row["n"])

    figures.remote_actors = await _count(session, "SELECT count(*) AS n FROM remote_actors")
    figures.peers = await _count(session, "SELECT count(*) AS n FROM peers")
    for row in await session._all(
        "SELECT suspended_at IS NULL AS active, count(*) AS n FROM members"
        " GROUP BY suspended_at IS NULL"
    ):
        figures.members["active" if row["active"] else "suspended"] = int(row["n"])
    for row in await session._all(
        "SELECT member_id IS NOT NULL AS local, status, count(*) AS n FROM listings"
        " WHERE deleted_at IS NULL GROUP BY member_id IS NOT NULL, status"
    ):
        origin = "local" if row["local"] else "remote"
        figures.listings[(origin, row["status"])] = int(row["n"])
    return figures
