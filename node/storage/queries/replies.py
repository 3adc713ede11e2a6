"""Replies to local listings from other servers."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import Reply


def _reply(row: Row) -> Reply:
    data = dict(row)
    data["document"] = loads(data["document"])
    return Reply(**data)


class ReplyQueries(QueryBase):
    async def upsert_reply(self, reply: Reply) -> None:
        await self._exec(
            "INSERT INTO listing_replies (iri, listing_seq, author_iri, content, published,"
            " document) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (iri) DO UPDATE SET"
            " content = excluded.content, document = excluded.document",
            (reply.iri, reply.listing_seq, reply.author_iri, reply.content, reply.published,
             dumps(reply.document)),
        )

    async def delete_reply(self, iri: str, author_iri: str) -> bool:
        changed = await self._exec(
            "DELETE FROM listing_replies WHERE iri = ? AND author_iri = ?", (iri, author_iri)
        )
        return changed > 0

    async def list_replies(self, listing_seq: int, *, include_hidden: bool) -> list[Reply]:
        sql = "SELECT * FROM listing_replies WHERE listing_seq = ?"
        if not include_hidden:
            sql += " AND hidden_at IS NULL"
        rows = await self._all(sql + " ORDER BY published, iri LIMIT 500", (listing_seq,))
        return [_reply(row) for row in rows]
