"""Activities published by local actors: the outboxes."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import Activity


def _activity(row: Row) -> Activity:
    data = dict(row)
    data["public"] = bool(data["public"])
    data["document"] = loads(data["document"])
    return Activity(**data)


class ActivityQueries(QueryBase):
    async def insert_activity(
        self,
        *,
        activity_id: str,
        iri: str,
        actor_iri: str,
        member_id: int | None,
        type: str,
        object_iri: str | None,
        public: bool,
        document: dict,
        published_at: str,
    ) -> int:
        return await self._insert(
            "INSERT INTO activities (id, iri, actor_iri, member_id, type, object_iri, public,"
            " document, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (
                activity_id,
                iri,
                actor_iri,
                member_id,
                type,
                object_iri,
                int(public),
                dumps(document),
                published_at,
            ),
        )

    async def get_activity(self, activity_id: str) -> Activity | None:
        row = await self._one("SELECT * FROM activities WHERE id = ?", (activity_id,))
        return None if row is None else _activity(row)

    async def count_outbox(self, actor_iri: str, *, public_only: bool) -> int:
        sql = "SELECT count(*) AS n FROM activities WHERE actor_iri = ?"
        if public_only:
            sql += " AND public = 1"
        row = await self._one(sql, (actor_iri,))
        return int(row["n"]) if row else 0

    async def list_outbox(
        self, actor_iri: str, *, public_only: bool, before_seq: int | None, limit: int
    ) -> list[Activity]:
        sql = "SELECT * FROM activities WHERE actor_iri = ? AND seq < ?"
        if public_only:
            sql += " AND public = 1"
        rows = await self._all(
            sql + " ORDER BY seq DESC LIMIT ?", (actor_iri, before_seq or 2**62, limit)
        )
        return [_activity(row) for row in rows]
