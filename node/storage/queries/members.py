"""Members: local accounts and their keys."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row
from node.storage.records import Member


def _member(row: Row) -> Member:
    data = dict(row)
    data["is_admin"] = bool(data["is_admin"])
    data["manually_approves_followers"] = bool(data["manually_approves_followers"])
    return Member(**data)


class MemberQueries(QueryBase):
    async def insert_member(
        self,
        *,
        username: str,
        display_name: str,
        password_hash: str | None,
        is_admin: bool,
        rsa_private_pem: str,
        ed25519_private_pem: str,
        created_at: str,
    ) -> int:
        return await self._insert(
            "INSERT INTO members (username, display_name, password_hash, is_admin,"
            " rsa_private_pem, ed25519_private_pem, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                username,
                display_name,
                password_hash,
                int(is_admin),
                rsa_private_pem,
                ed25519_private_pem,
                created_at,
            ),
        )

    async def get_member(self, member_id: int) -> Member | None:
        row = await self._one("SELECT * FROM members WHERE id = ?", (member_id,))
        return None if row is None else _member(row)

    async def get_member_by_username(self, username: str) -> Member | None:
        row = await self._one(
            "SELECT * FROM members WHERE lower(username) = lower(?)", (username,)
        )
        return None if row is None else _member(row)

    async def list_members(self, *, after_id: int = 0, limit: int = 50) -> list[Member]:
        rows = await self._all(
            "SELECT * FROM members WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        )
        return [_member(row) for row in rows]

    async def count_members(self, *, active_only: bool = True) -> int:
        sql = "SELECT count(*) AS n FROM members"
        if active_only:
            sql += " WHERE suspended_at IS NULL"
        row = await self._one(sql)
        return int(row["n"]) if row else 0

    async def update_member_profile(
        self,
        member_id: int,
        *,
        display_name: str,
        summary: str,
        manually_approves_followers: bool,
    ) -> None:
        await self._exec(
            "UPDATE members SET display_name = ?, summary = ?, manually_approves_followers = ?"
            " WHERE id = ?",
            (display_name, summary, int(manually_approves_followers), member_id),
        )

    async def set_member_password(self, member_id: int, password_hash: str) -> None:
        await self._exec(
            "UPDATE members SET password_hash = ? WHERE id = ?", (password_hash, member_id)
        )

    async def set_member_admin(self, member_id: int, is_admin: bool) -> None:
        await self._exec("UPDATE members SET is_admin = ? WHERE id = ?", (int(is_admin), member_id))

    async def set_member_suspended(self, member_id: int, suspended_at: str | None) -> None:
        await self._exec(
            "UPDATE members SET suspended_at = ? WHERE id = ?", (suspended_at, member_id)
        )
