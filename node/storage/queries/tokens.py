"""Bearer tokens (API and web sessions), stored as SHA-256 hashes only."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row
from node.storage.records import Token

_COLUMNS = "id, member_id, name, scope, kind, created_at, expires_at, last_used_at, revoked_at"


def _token(row: Row) -> Token:
    return Token(**{key: row[key] for key in _COLUMNS.split(", ")})


class TokenQueries(QueryBase):
    async def insert_token(
        self,
        *,
        token_id: str,
        member_id: int,
        name: str,
        scope: str,
        kind: str,
        token_hash: str,
        created_at: str,
        expires_at: str | None,
    ) -> None:
        await self._exec(
            "INSERT INTO tokens (id, member_id, name, scope, kind, token_hash, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (token_id, member_id, name, scope, kind, token_hash, created_at, expires_at),
        )

    async def get_token_by_hash(self, token_hash: str) -> Token | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    async def get_token(self, token_id: str) -> Token | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM tokens WHERE id = ?", (token_id,))
        return None if row is None else _token(row)

    async def list_tokens(self, member_id: int) -> list[Token]:
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM tokens WHERE member_id = ? AND kind = 'api'"
            " ORDER BY created_at, id",
            (member_id,),
        )
        return [_token(row) for row in rows]

    async def touch_token(self, token_id: str, used_at: str) -> None:
        await self._exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", (used_at, token_id))

    async def revoke_sessions(self, member_id: int, revoked_at: str, *, keep: str | None) -> int:
        """Revoke the member's login sessions (not API tokens), except ``keep``."""
        return await self._exec(
            "UPDATE tokens SET revoked_at = ? WHERE member_id = ? AND kind = 'session'"
            " AND revoked_at IS NULL AND id <> ?",
            (revoked_at, member_id, keep or ""),
        )

    async def revoke_token(self, token_id: str, revoked_at: str) -> bool:
        changed = await self._exec(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (revoked_at, token_id),
        )
        return changed > 0
