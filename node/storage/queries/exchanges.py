"""Exchanges, their offers, history and messages, and members' notifications."""

from __future__ import annotations

from dataclasses import asdict

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import (
    Exchange,
    ExchangeEvent,
    ExchangeMessage,
    Notification,
)

_EXCHANGE_COLUMNS = (
    "id", "proposal_iri", "listing_seq", "proposer_iri", "responder_iri", "mode", "state",
    "pending_offer_iri", "pending_offer_role", "agreement_iri", "agreement", "quantity",
    "starts_at", "ends_at", "holds_availability", "reason", "created_at", "updated_at",
)


def _exchange(row: Row) -> Exchange:
    data = dict(row)
    data["agreement"] = loads(data["agreement"])
    data["holds_availability"] = bool(data["holds_availability"])
    return Exchange(**data)


class ExchangeQueries(QueryBase):
    async def save_exchange(self, exchange: Exchange) -> None:
        """Insert or overwrite an exchange (matched by id)."""
        values = asdict(exchange)
        values["agreement"] = dumps(exchange.agreement) if exchange.agreement else None
        values["holds_availability"] = int(exchange.holds_availability)
        columns = ", ".join(_EXCHANGE_COLUMNS)
        marks = ", ".join("?" for _ in _EXCHANGE_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _EXCHANGE_COLUMNS if c != "id")
        await self._exec(
            f"INSERT INTO exchanges ({columns}) VALUES ({marks})"
            f" ON CONFLICT (id) DO UPDATE SET {updates}",
            [values[c] for c in _EXCHANGE_COLUMNS],
        )

    async def get_exchange(self, exchange_id: str) -> Exchange | None:
        row = await self._one("SELECT * FROM exchanges WHERE id = ?", (exchange_id,))
        return None if row is None else _exchange(row)

    async def get_exchange_by_agreement(self, agreement_iri: str) -> Exchange | None:
        row = await self._one(
            "SELECT * FROM exchanges WHERE agreement_iri = ?", (agreement_iri,)
        )
        return None if row is None else _exchange(row)

    async def get_exchange_by_offer(self, offer_iri: str) -> Exchange | None:
        row = await self._one(
            "SELECT e.* FROM exchanges e JOIN exchange_offers o ON o.exchange_id = e.id"
            " WHERE o.offer_iri = ?",
            (offer_iri,),
        )
        return None if row is None else _exchange(row)

    async def get_exchange_by_any_agreement(self, agreement_iri: str) -> Exchange | None:
        """The exchange an Agreement was ever offered in (messages cite old ones too)."""
        found = await self.get_exchange_by_agreement(agreement_iri)
        if found is not None:
            return found
        row = await self._one(
            "SELECT e.* FROM exchanges e JOIN exchange_offers o ON o.exchange_id = e.id"
            " WHERE o.agreement_iri = ?",
            (agreement_iri,),
        )
        return None if row is None else _exchange(row)

    async def list_exchanges_of(self, actor_iri: str, *, limit: int = 200) -> list[Exchange]:
        rows = await self._all(
            "SELECT * FROM exchanges WHERE proposer_iri = ? OR responder_iri = ?"
            " ORDER BY updated_at DESC, id DESC LIMIT ?",
            (actor_iri, actor_iri, limit),
        )
        return [_exchange(row) for row in rows]

    async def exchanges_holding(self, listing_seq: int) -> list[Exchange]:
        """Exchanges that currently hold quantity or dates of a listing."""
        rows = await self._all(
            "SELECT * FROM exchanges WHERE listing_seq = ? AND holds_availability = 1",
            (listing_seq,),
        )
        return [_exchange(row) for row in rows]

    async def add_offer(
        self, offer_iri: str, exchange_id: str, agreement_iri: str, sender_role: str, now: str
    ) -> None:
        await self._exec(
            "INSERT INTO exchange_offers (offer_iri, exchange_id, agreement_iri, sender_role,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            (offer_iri, exchange_id, agreement_iri, sender_role, now),
        )

    async def add_exchange_event(
        self, *, exchange_id: str, activity_iri: str, type: str, actor_iri: str, role: str,
        from_state: str, to_state: str, content: str | None, now: str,
    ) -> bool:
        """Record an applied activity; False when it was recorded before."""
        changed = await self._exec(
            "INSERT INTO exchange_events (exchange_id, activity_iri, type, actor_iri, role,"
            " from_state, to_state, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (activity_iri) DO NOTHING",
            (exchange_id, activity_iri, type, actor_iri, role, from_state, to_state, content,
             now),
        )
        return changed > 0

    async def list_exchange_events(self, exchange_id: str) -> list[ExchangeEvent]:
        rows = await self._all(
            "SELECT * FROM exchange_events WHERE exchange_id = ? ORDER BY seq", (exchange_id,)
        )
        return [ExchangeEvent(**dict(row)) for row in rows]

    async def add_message(self, message: ExchangeMessage) -> bool:
        changed = await self._exec(
            "INSERT INTO exchange_messages (iri, exchange_id, author_iri, content, published,"
            " document) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (iri) DO NOTHING",
            (message.iri, message.exchange_id, message.author_iri, message.content,
             message.published, dumps(message.document)),
        )
        return changed > 0

    async def list_messages(self, exchange_id: str) -> list[ExchangeMessage]:
        """An exchange's messages in the order this node stored them: published
        times have second resolution, too coarse to order a quick reply."""
        rows = await self._all(
            "SELECT iri, exchange_id, author_iri, content, published, document"
            " FROM exchange_messages WHERE exchange_id = ? ORDER BY seq",
            (exchange_id,),
        )
        result = []
        for row in rows:
            data = dict(row)
            data["document"] = loads(data["document"])
            result.append(ExchangeMessage(**data))
        return result

    async def notify(
        self, member_id: int, kind: str, summary: str, exchange_id: str | None, now: str
    ) -> None:
        await self._exec(
            "INSERT INTO notifications (member_id, kind, exchange_id, summary, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (member_id, kind, exchange_id, summary, now),
        )

    async def list_notifications(
        self, member_id: int, *, unread_only: bool, limit: int = 100
    ) -> list[Notification]:
        sql = "SELECT * FROM notifications WHERE member_id = ?"
        if unread_only:
            sql += " AND read_at IS NULL"
        rows = await self._all(sql + " ORDER BY id DESC LIMIT ?", (member_id, limit))
        return [Notification(**dict(row)) for row in rows]

    async def count_unread_notifications(self, member_id: int) -> int:
        row = await self._one(
            "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ? AND read_at IS NULL",
            (member_id,),
        )
        return int(row["n"]) if row else 0

    async def mark_notifications_read(self, member_id: int, up_to_id: int, now: str) -> int:
        return await self._exec(
            "UPDATE notifications SET read_at = ? WHERE member_id = ? AND id <= ?"
            " AND read_at IS NULL",
            (now, member_id, up_to_id),
        )
