"""Invite codes for invite-only registration, stored hashed."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row
from node.storage.records import Invite

_COLUMNS = "id, created_by, note, max_uses, uses, created_at, expires_at, revoked_at"


def _invite(row: Row) -> Invite:
    return Invite(**{key: row[key] for key in _COLUMNS.split(", ")})


class InviteQueries(QueryBase):
    async def insert_invite(
        self,
        *,
        invite_id: str,
        code_hash: str,
        created_by: int | None,
        note: str,
        max_uses: int,
        created_at: str,
        expires_at: str | None,
    ) -> None:
        await self._exec(
            "INSERT INTO invites (id, code_hash, created_by, note, max_uses, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invite_id, code_hash, created_by, note, max_uses, created_at, expires_at),
        )

    async def get_invite_by_hash(self, code_hash: str) -> Invite | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM invites WHERE code_hash = ?", (code_hash,))
        return None if row is None else _invite(row)

    async def use_invite(self, code_hash: str, now: str) -> bool:
        """Count one use if the invite is still valid; False when it is not."""
        changed = await self._exec(
            "UPDATE invites SET uses = uses + 1 WHERE code_hash = ? AND revoked_at IS NULL"
            " AND uses < max_uses AND (expires_at IS NULL OR expires_at > ?)",
            (code_hash, now),
        )
        return changed > 0

    async def list_invites(self) -> list[Invite]:
        rows = await self._all(f"SELECT {_COLUMNS} FROM invites ORDER BY created_at, id")
        return [_invite(row) for row in rows]

    async def revoke_invite(self, invite_id: str, now: str) -> bool:
        changed = await self._exec(
            "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (now, invite_id),
        )
        return changed > 0
