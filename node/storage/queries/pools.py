"""Pools and pledges (pooled pledges), with the records they are read into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.storage.queries._base import QueryBase, Row, dumps, loads


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool this node counts (``local``) or one its members pledged to."""

    listing_iri: str
    listing_seq: int | None
    local: bool
    author_iri: str
    goal_kind: str
    goal_amount: str
    unit: str
    currency: str | None
    maximum_pledge: str | None
    deadline: str
    #: open, succeeded or failed.
    state: str
    outcome_iri: str | None
    #: The signed PoolOutcome, once the pool closed.
    outcome: dict[str, Any] | None
    settled_at: str | None
    claimed_until: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Pledge:
    id: str
    iri: str
    offer_iri: str
    pool_iri: str
    pledger_iri: str
    member_id: int | None
    amount: str
    #: live, withdrawn, committed, released or refused.
    state: str
    reason: str | None
    #: The signed Pledge.
    document: dict[str, Any]
    created_at: str
    updated_at: str


_POOL_COLUMNS = (
    "listing_iri", "listing_seq", "local", "author_iri", "goal_kind", "goal_amount", "unit",
    "currency", "maximum_pledge", "deadline", "state", "outcome_iri", "outcome", "settled_at",
    "claimed_until", "created_at",
)
_PLEDGE_COLUMNS = (
    "id", "iri", "offer_iri", "pool_iri", "pledger_iri", "member_id", "amount", "state",
    "reason", "document", "created_at", "updated_at",
)


def _pool(row: Row) -> Pool:
    data = dict(row)
    data["local"] = bool(data["local"])
    data["outcome"] = loads(data["outcome"])
    return Pool(**data)


def _pledge(row: Row) -> Pledge:
    data = dict(row)
    data["document"] = loads(data["document"])
    return Pledge(**data)


class PoolQueries(QueryBase):
    #: PostgreSQL appends ``FOR UPDATE SKIP LOCKED`` (see QueueQueries).
    claim_lock_clause = ""

    async def insert_pool(self, pool: Pool) -> bool:
        """Store a pool; False when one with its listing IRI is already kept."""
        values = [getattr(pool, column) for column in _POOL_COLUMNS]
        values[_POOL_COLUMNS.index("local")] = int(pool.local)
        values[_POOL_COLUMNS.index("outcome")] = dumps(pool.outcome) if pool.outcome else None
        changed = await self._exec(
            f"INSERT INTO pools ({', '.join(_POOL_COLUMNS)})"
            f" VALUES ({', '.join('?' for _ in _POOL_COLUMNS)})"
            " ON CONFLICT (listing_iri) DO NOTHING",
            values,
        )
        return changed > 0

    async def get_pool(self, listing_iri: str) -> Pool | None:
        row = await self._one("SELECT * FROM pools WHERE listing_iri = ?", (listing_iri,))
        return None if row is None else _pool(row)

    async def claim_due_pools(self, now: str, claim_until: str, limit: int) -> list[Pool]:
        """Take local open pools whose deadline has passed, so that one worker
        settles each; a claim older than ``now`` has lapsed and is taken again."""
        rows = await self._all(
            "UPDATE pools SET claimed_until = ? WHERE listing_iri IN (SELECT listing_iri"
            " FROM pools WHERE local = 1 AND state = 'open' AND deadline <= ?"
            " AND (claimed_until IS NULL OR claimed_until < ?)"
            f" ORDER BY deadline, listing_iri LIMIT ?{self.claim_lock_clause}) RETURNING *",
            (claim_until, now, now, limit),
        )
        return sorted((_pool(row) for row in rows), key=lambda pool: pool.deadline)

    async def close_pool(
        self, listing_iri: str, *, state: str, outcome: dict[str, Any], settled_at: str
    ) -> bool:
        """Record a pool's outcome; False when it had already closed."""
        changed = await self._exec(
            "UPDATE pools SET state = ?, outcome_iri = ?, outcome = ?, settled_at = ?,"
            " claimed_until = NULL WHERE listing_iri = ? AND state = 'open'",
            (state, outcome["id"], dumps(outcome), settled_at, listing_iri),
        )
        return changed > 0

    async def insert_pledge(self, pledge: Pledge) -> bool:
        """Store a pledge; False when its id or Offer was stored before (a replay)."""
        values = [getattr(pledge, column) for column in _PLEDGE_COLUMNS]
        values[_PLEDGE_COLUMNS.index("document")] = dumps(pledge.document)
        changed = await self._exec(
            f"INSERT INTO pool_pledges ({', '.join(_PLEDGE_COLUMNS)})"
            f" VALUES ({', '.join('?' for _ in _PLEDGE_COLUMNS)}) ON CONFLICT DO NOTHING",
            values,
        )
        return changed > 0

    async def get_pledge(self, pledge_id: str) -> Pledge | None:
        row = await self._one("SELECT * FROM pool_pledges WHERE id = ?", (pledge_id,))
        return None if row is None else _pledge(row)

    async def get_pledge_by_iri(self, iri: str) -> Pledge | None:
        row = await self._one("SELECT * FROM pool_pledges WHERE iri = ?", (iri,))
        return None if row is None else _pledge(row)

    async def get_pledge_by_offer(self, offer_iri: str) -> Pledge | None:
        row = await self._one("SELECT * FROM pool_pledges WHERE offer_iri = ?", (offer_iri,))
        return None if row is None else _pledge(row)

    async def live_pledge_of(self, pool_iri: str, pledger_iri: str) -> Pledge | None:
        row = await self._one(
            "SELECT * FROM pool_pledges WHERE pool_iri = ? AND pledger_iri = ?"
            " AND state = 'live'",
            (pool_iri, pledger_iri),
        )
        return None if row is None else _pledge(row)

    async def list_pledges(self, pool_iri: str, *, states: tuple[str, ...]) -> list[Pledge]:
        """A pool's pledges in these states, oldest first (the order outcomes list them)."""
        marks = ", ".join("?" for _ in states)
        rows = await self._all(
            f"SELECT * FROM pool_pledges WHERE pool_iri = ? AND state IN ({marks})"
            " ORDER BY created_at, iri",
            (pool_iri, *states),
        )
        return [_pledge(row) for row in rows]

    async def list_member_pledges(
        self, member_id: int, pool_iri: str | None = None, *, limit: int = 200
    ) -> list[Pledge]:
        sql, params = "SELECT * FROM pool_pledges WHERE member_id = ?", [member_id]
        if pool_iri is not None:
            sql, params = sql + " AND pool_iri = ?", [*params, pool_iri]
        rows = await self._all(sql + " ORDER BY created_at DESC, id DESC LIMIT ?",
                               (*params, limit))
        return [_pledge(row) for row in rows]

    async def set_pledge_state(
        self, pledge_id: str, state: str, now: str, *, reason: str | None = None,
        only_from: str | None = None,
    ) -> bool:
        """Move a pledge to ``state``; with ``only_from``, only from that state."""
        sql = "UPDATE pool_pledges SET state = ?, reason = coalesce(?, reason), updated_at = ?"
        params: list[Any] = [state, reason, now, pledge_id]
        sql += " WHERE id = ?"
        if only_from is not None:
            sql += " AND state = ?"
            params.append(only_from)
        return await self._exec(sql, params) > 0
