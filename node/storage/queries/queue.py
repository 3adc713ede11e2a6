"""Persisted work: inbound activities, jobs and deliveries.

Claiming marks rows as taken until ``locked_until``; a worker that dies lets
its lock expire and the rows become claimable again, so nothing is lost and
no two live workers hold the same row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import (
    ARRIVAL_REFUSED,
    ArrivingActivity,
    Delivery,
    HostPolicy,
    HostScreen,
    InboxActivity,
    Job,
)


def _job(row: Row) -> Job:
    data = dict(row)
    data["payload"] = loads(data["payload"])
    return Job(**data)


def _inbox_activity(row: Row) -> InboxActivity:
    data = dict(row)
    data["document"] = loads(data["document"])
    return InboxActivity(**data)


# Arrivals are stored by these statements twice over: through a session
# (:meth:`QueueQueries.store_arrivals`) and, on SQLite, on a driver connection
# of their own (``node.storage.sqlite_arrivals``). Both build them here.

def host_policies_statement(hosts: Sequence[str]) -> tuple[str, list[Any]]:
    marks = ", ".join("?" * len(hosts))
    return f"SELECT * FROM host_policies WHERE host IN ({marks})", list(hosts)


def policies_by_host(rows: Iterable[Row]) -> dict[str, HostPolicy]:
    return {row["host"]: HostPolicy(**dict(row)) for row in rows}


def arrivals_statement(arrivals: Sequence[ArrivingActivity]) -> tuple[str, list[Any]]:
    """One INSERT of every arrival; it returns ``seq, iri`` of those stored."""
    sql = (
        "INSERT INTO inbox_activities"
        " (iri, actor_iri, type, document, received_at, outcome, outcome_detail) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(arrivals))
        + " ON CONFLICT (iri) DO NOTHING RETURNING seq, iri"
    )
    params = [
        value
        for item in arrivals
        for value in (item.iri, item.actor_iri, item.type, item.document_text,
                      item.received_at, item.outcome, item.outcome_detail)
    ]
    return sql, params


def jobs_statement(
    kind: str, payloads: Sequence[dict[str, Any]], now: str
) -> tuple[str, list[Any]]:
    sql = (
        "INSERT INTO jobs (kind, payload, state, next_attempt_at, created_at, updated_at)"
        " VALUES " + ", ".join(["(?, ?, 'new', ?, ?, ?)"] * len(payloads))
    )
    return sql, [value for payload in payloads for value in (kind, dumps(payload), now, now, now)]


def seqs_in_order(iris: Sequence[str], rows: Iterable[Row]) -> list[int | None]:
    """Each iri's stored ``seq`` from RETURNING rows; None for a replay, including
    a repeat of an earlier iri in the same statement (the first one was stored)."""
    seq_by_iri = {row["iri"]: int(row["seq"]) for row in rows}
    return [seq_by_iri.pop(iri, None) for iri in iris]


def admitted_arrivals(
    arrivals: Sequence[ArrivingActivity], screen: HostScreen, policies: dict[str, HostPolicy]
) -> list[ArrivingActivity]:
    refused = screen({item.host for item in arrivals}, policies)
    return [item for item in arrivals if item.host not in refused]


def arrival_results(
    arrivals: Sequence[ArrivingActivity], admitted: Sequence[ArrivingActivity],
    seqs: Sequence[int | None],
) -> list[int | None]:
    """One answer per arrival, in order: its seq, None, or :data:`ARRIVAL_REFUSED`."""
    by_position = {id(item): seq for item, seq in zip(admitted, seqs, strict=True)}
    return [by_position.get(id(item), ARRIVAL_REFUSED) for item in arrivals]


def arrival_jobs(
    admitted: Sequence[ArrivingActivity], seqs: Sequence[int | None]
) -> list[dict[str, Any]]:
    """A processing job for each arrival stored now and awaiting a handler."""
    return [{"seq": seq} for item, seq in zip(admitted, seqs, strict=True)
            if seq is not None and item.outcome is None]


class QueueQueries(QueryBase):
    #: Appended to claim subqueries; PostgreSQL adds ``FOR UPDATE SKIP LOCKED``.
    claim_lock_clause = ""

    # Inbound activities ------------------------------------------------------

    async def insert_inbox_activity(
        self, *, iri: str, actor_iri: str, type: str, document: dict[str, Any], received_at: str
    ) -> int | None:
        """Store an inbound activity; None when its id was seen before (a replay)."""
        row = await self._one(
            "INSERT INTO inbox_activities (iri, actor_iri, type, document, received_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (iri) DO NOTHING RETURNING seq",
            (iri, actor_iri, type, dumps(document), received_at),
        )
        return None if row is None else int(row["seq"])

    async def store_arrivals(
        self, arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str
    ) -> list[int | None]:
        """Store authenticated arrivals and queue a ``job_kind`` job for each
        stored one that has no outcome yet. Activities from a host ``screen``
        refuses, judged by the policies read in this transaction, are not
        stored. Answers each one's seq, None for a replay, or
        :data:`ARRIVAL_REFUSED`."""
        if not arrivals:
            return []
        hosts = sorted({item.host for item in arrivals})
        policies = policies_by_host(await self._all(*host_policies_statement(hosts)))
        admitted = admitted_arrivals(arrivals, screen, policies)
        seqs: list[int | None] = []
        if admitted:
            rows = await self._all(*arrivals_statement(admitted))
            seqs = seqs_in_order([item.iri for item in admitted], rows)
        if jobs := arrival_jobs(admitted, seqs):
            await self.enqueue_jobs(job_kind, jobs, arrivals[0].received_at)
        return arrival_results(arrivals, admitted, seqs)

    async def get_inbox_activity(self, seq: int) -> InboxActivity | None:
        row = await self._one("SELECT * FROM inbox_activities WHERE seq = ?", (seq,))
        return None if row is None else _inbox_activity(row)

    async def set_inbox_outcome(self, seq: int, outcome: str, detail: str | None) -> None:
        await self._exec(
            "UPDATE inbox_activities SET outcome = ?, outcome_detail = ? WHERE seq = ?",
            (outcome, detail, seq),
        )

    async def reopen_inbox_activities(
        self, actor_iri: str, received_since: str, outcome_prefix: str
    ) -> list[int]:
        """Clear the outcome of ``actor_iri``'s activities received since
        ``received_since`` whose outcome starts with ``outcome_prefix``, so they
        can be processed again; returns their sequence numbers."""
        pattern = outcome_prefix.replace("%", r"\%").replace("_", r"\_") + "%"
        rows = await self._all(
            "UPDATE inbox_activities SET outcome = NULL, outcome_detail = NULL"
            " WHERE actor_iri = ? AND received_at >= ? AND outcome LIKE ? ESCAPE '\\'"
            " RETURNING seq",
            (actor_iri, received_since, pattern),
        )
        return sorted(int(row["seq"]) for row in rows)

    async def count_inbox_activities(self, *, type: str | None = None) -> int:
        sql, params = "SELECT count(*) AS n FROM inbox_activities", ()
        if type is not None:
            sql, params = sql + " WHERE type = ?", (type,)
        row = await self._one(sql, params)
        return int(row["n"]) if row else 0

    # Jobs ----------------------------------------------------------------------

    async def enqueue_job(self, kind: str, payload: dict[str, Any], now: str) -> int:
        return await self._insert(
            "INSERT INTO jobs (kind, payload, state, next_attempt_at, created_at, updated_at)"
            " VALUES (?, ?, 'new', ?, ?, ?) RETURNING id",
            (kind, dumps(payload), now, now, now),
        )

    async def enqueue_jobs(self, kind: str, payloads: Sequence[dict[str, Any]], now: str) -> int:
        """Queue one job of ``kind`` per payload in one statement; return how many."""
        if not payloads:
            return 0
        await self._exec(*jobs_statement(kind, payloads, now))
        return len(payloads)

    async def claim_jobs(self, now: str, lock_until: str, limit: int) -> list[Job]:
        rows = await self._all(
            "UPDATE jobs SET state = 'running', locked_until = ?, attempts = attempts + 1,"
            " updated_at = ? WHERE id IN (SELECT id FROM jobs WHERE"
            " (state IN ('new', 'retrying') AND next_attempt_at <= ?)"
            " OR (state = 'running' AND locked_until < ?)"
            f" ORDER BY next_attempt_at, id LIMIT ?{self.claim_lock_clause}) RETURNING *",
            (lock_until, now, now, now, limit),
        )
        return sorted((_job(row) for row in rows), key=lambda job: job.id)

    async def finish_job(self, job_id: int, now: str) -> None:
        await self._exec(
            "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ? WHERE id = ?",
            (now, job_id),
        )

    async def retry_job(
        self, job_id: int, next_attempt_at: str, error: str, now: str, *, refund: bool = False
    ) -> None:
        """Schedule another attempt; ``refund`` gives back the attempt the claim
        counted, for failures that were the node's, not the job's."""
        await self._exec(
            "UPDATE jobs SET state = 'retrying', next_attempt_at = ?, locked_until = NULL,"
            " last_error = ?, updated_at = ?, attempts = attempts - ? WHERE id = ?",
            (next_attempt_at, error, now, 1 if refund else 0, job_id),
        )

    async def fail_job(self, job_id: int, error: str, now: str) -> None:
        await self._exec(
            "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = ?,"
            " updated_at = ? WHERE id = ?",
            (error, now, job_id),
        )

    async def count_jobs_by_state(self) -> dict[str, int]:
        rows = await self._all("SELECT state, count(*) AS n FROM jobs GROUP BY state")
        return {row["state"]: int(row["n"]) for row in rows}

    # Deliveries ----------------------------------------------------------------

    async def insert_deliveries(
        self, activity_iri: str, actor_iri: str, inboxes: Iterable[tuple[str, str]], now: str
    ) -> int:
        """One row per ``(inbox, host)``; an inbox already queued for the activity is skipped."""
        created = 0
        for inbox, host in inboxes:
            created += await self._exec(
                "INSERT INTO deliveries (activity_iri, actor_iri, inbox, host, state,"
                " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'new', ?, ?, ?)"
                " ON CONFLICT (activity_iri, inbox) DO NOTHING",
                (activity_iri, actor_iri, inbox, host, now, now, now),
            )
        return created

    async def claim_deliveries(self, now: str, lock_until: str, limit: int) -> list[Delivery]:
        rows = await self._all(
            "UPDATE deliveries SET state = 'sending', locked_until = ?, attempts = attempts + 1,"
            " updated_at = ? WHERE id IN (SELECT id FROM deliveries WHERE"
            " (state IN ('new', 'retrying') AND next_attempt_at <= ?)"
            " OR (state = 'sending' AND locked_until < ?)"
            f" ORDER BY next_attempt_at, id LIMIT ?{self.claim_lock_clause}) RETURNING *",
            (lock_until, now, now, now, limit),
        )
        return sorted((Delivery(**dict(row)) for row in rows), key=lambda d: d.id)

    async def finish_delivery(
        self, delivery_id: int, state: str, *, status: int | None, error: str | None,
        next_attempt_at: str | None, now: str,
    ) -> None:
        """Record an attempt's outcome: ``delivered``, ``retrying`` or ``failed``."""
        await self._exec(
            "UPDATE deliveries SET state = ?, last_status = ?, last_error = ?,"
            " next_attempt_at = coalesce(?, next_attempt_at), locked_until = NULL,"
            " updated_at = ? WHERE id = ?",
            (state, status, error, next_attempt_at, now, delivery_id),
        )

    async def release_delivery(self, delivery_id: int, *, next_attempt_at: str, now: str) -> None:
        """Hand a claimed row back unsent (its host is paused, or its lock ran
        short): the claim's attempt is not counted and the last error is kept."""
        await self._exec(
            "UPDATE deliveries SET state = 'retrying', next_attempt_at = ?, locked_until = NULL,"
            " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = ?"
            " WHERE id = ? AND state = 'sending'",
            (next_attempt_at, now, delivery_id),
        )

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = await self._one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        return None if row is None else Delivery(**dict(row))

    async def list_deliveries(
        self, *, state: str | None = None, host: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        clauses, params = ["1 = 1"], []
        if state is not None:
            clauses.append("state = ?")
            params.append(state)
        if host is not None:
            clauses.append("host = ?")
            params.append(host)
        rows = await self._all(
            f"SELECT * FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
            (*params, limit),
        )
        return [Delivery(**dict(row)) for row in rows]

    async def delivery_counts(self) -> dict[str, int]:
        rows = await self._all("SELECT state, count(*) AS n FROM deliveries GROUP BY state")
        return {row["state"]: int(row["n"]) for row in rows}

    async def oldest_pending_delivery(self) -> str | None:
        row = await self._one(
            "SELECT min(created_at) AS oldest FROM deliveries"
            " WHERE state IN ('new', 'retrying', 'sending')"
        )
        return None if row is None else row["oldest"]

    async def failing_hosts(self, limit: int = 20) -> list[tuple[str, int]]:
        rows = await self._all(
            "SELECT host, count(*) AS n FROM deliveries WHERE state IN ('retrying', 'failed')"
            " GROUP BY host ORDER BY n DESC, host LIMIT ?",
            (limit,),
        )
        return [(row["host"], int(row["n"])) for row in rows]

    async def requeue_failed_deliveries(self, now: str, host: str | None = None) -> int:
        sql = (
            "UPDATE deliveries SET state = 'retrying', next_attempt_at = ?, attempts = 0,"
            " updated_at = ? WHERE state = 'failed'"
        )
        params: list[Any] = [now, now]
        if host is not None:
            sql += " AND host = ?"
            params.append(host)
        return await self._exec(sql, params)

    async def drop_failed_deliveries(self, host: str | None = None) -> int:
        sql, params = "DELETE FROM deliveries WHERE state = 'failed'", []
        if host is not None:
            sql += " AND host = ?"
            params.append(host)
        return await self._exec(sql, params)

    async def fail_pending_deliveries_to_host(self, host: str, reason: str, now: str) -> int:
        """A block stops every queued delivery to the host at once."""
        return await self._exec(
            "UPDATE deliveries SET state = 'failed', last_error = ?, locked_until = NULL,"
            " updated_at = ? WHERE host = ? AND state IN ('new', 'retrying')",
            (reason, now, host),
        )

    async def get_activity_document_by_iri(self, iri: str) -> dict[str, Any] | None:
        row = await self._one("SELECT document FROM activities WHERE iri = ?", (iri,))
        return None if row is None else loads(row["document"])
