"""Reports to the operators, and the log of what operators did about them."""

from __future__ import annotations

from dataclasses import dataclass

from node.storage.queries._base import QueryBase, Row


@dataclass(frozen=True, slots=True)
class Report:
    id: str
    #: The local member who reported it; None for a report from another node.
    reporter_member_id: int | None
    #: The member's actor, or the actor of the Flag that brought the report.
    reporter_iri: str
    #: ``listing``, ``attestation``, ``member`` or ``question``.
    kind: str
    target_iri: str
    #: Whose content it is (for a member report, the member).
    target_actor_iri: str
    reason: str
    comment: str
    created_at: str
    #: ``open``, ``resolved`` or ``dismissed``.
    state: str
    resolution: str
    resolved_at: str | None
    resolved_by: int | None
    forwarded_at: str | None
    flag_iri: str | None


@dataclass(frozen=True, slots=True)
class ModerationAction:
    id: str
    action: str
    target: str
    note: str
    report_id: str | None
    operator_id: int | None
    created_at: str


def _report(row: Row) -> Report:
    return Report(**dict(row))


class ReportQueries(QueryBase):
    async def insert_report(self, report: Report) -> bool:
        """Store a report; False when its Flag was already turned into one."""
        changed = await self._exec(
            "INSERT INTO reports (id, reporter_member_id, reporter_iri, kind, target_iri,"
            " target_actor_iri, reason, comment, created_at, state, flag_iri)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT DO NOTHING",
            (report.id, report.reporter_member_id, report.reporter_iri, report.kind,
             report.target_iri, report.target_actor_iri, report.reason, report.comment,
             report.created_at, report.flag_iri),
        )
        return changed > 0

    async def get_report(self, report_id: str) -> Report | None:
        row = await self._one("SELECT * FROM reports WHERE id = ?", (report_id,))
        return None if row is None else _report(row)

    async def open_report_by(self, reporter_iri: str, target_iri: str) -> Report | None:
        row = await self._one(
            "SELECT * FROM reports WHERE reporter_iri = ? AND target_iri = ? AND state = 'open'",
            (reporter_iri, target_iri),
        )
        return None if row is None else _report(row)

    async def list_reports(self, *, state: str | None = None, limit: int = 100) -> list[Report]:
        """Newest first; open ones, closed ones or all."""
        if state is None:
            rows = await self._all(
                "SELECT * FROM reports ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
            )
        else:
            rows = await self._all(
                "SELECT * FROM reports WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                (state, limit),
            )
        return [_report(row) for row in rows]

    async def count_reports(self, state: str) -> int:
        row = await self._one("SELECT count(*) AS n FROM reports WHERE state = ?", (state,))
        return int(row["n"]) if row else 0

    async def close_report(
        self, report_id: str, state: str, resolution: str, operator_id: int | None, now: str
    ) -> bool:
        changed = await self._exec(
            "UPDATE reports SET state = ?, resolution = ?, resolved_by = ?, resolved_at = ?"
            " WHERE id = ? AND state = 'open'",
            (state, resolution, operator_id, now, report_id),
        )
        return changed > 0

    async def mark_report_forwarded(self, report_id: str, now: str) -> None:
        await self._exec("UPDATE reports SET forwarded_at = ? WHERE id = ?", (now, report_id))

    async def log_moderation(self, action: ModerationAction) -> None:
        await self._exec(
            "INSERT INTO moderation_actions (id, action, target, note, report_id, operator_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (action.id, action.action, action.target, action.note, action.report_id,
             action.operator_id, action.created_at),
        )

    async def last_moderation(self, target: str, action: str) -> ModerationAction | None:
        row = await self._one(
            "SELECT * FROM moderation_actions WHERE target = ? AND action = ?"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (target, action),
        )
        return None if row is None else ModerationAction(**dict(row))

    async def recent_moderation(self, limit: int = 20) -> list[ModerationAction]:
        rows = await self._all(
            "SELECT * FROM moderation_actions ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
        )
        return [ModerationAction(**dict(row)) for row in rows]
