"""Members: local accounts and their keys."""

from __future__ import annotations

import json

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
        if "\x00" in username:
            # No username holds NUL (they are validated), and PostgreSQL cannot
            # even be asked about one: every lookup from a URL answers "no one".
            return None
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

    async def set_member_aliases(self, member_id: int, also_known_as: list[str]) -> None:
        await self._exec(
            "UPDATE members SET also_known_as = ? WHERE id = ?",
            (json.dumps(also_known_as), member_id),
        )

    async def set_member_moved_to(self, member_id: int, moved_to: str) -> None:
        await self._exec("UPDATE members SET moved_to = ? WHERE id = ?", (moved_to, member_id))

    async def record_move(self, old_iri: str, new_iri: str, now: str) -> None:
        await self._exec(
            "INSERT INTO actor_moves (old_iri, new_iri, verified_at) VALUES (?, ?, ?)"
            " ON CONFLICT (old_iri) DO UPDATE SET new_iri = excluded.new_iri,"
            " verified_at = excluded.verified_at",
            (old_iri, new_iri, now),
        )

    async def former_identities(self, new_iri: str) -> list[str]:
        """Actor IRIs verified to have moved to ``new_iri``, directly or in a chain."""
        found: list[str] = []
        frontier = [new_iri]
        while frontier and len(found) < 20:
            rows = await self._all(
                "SELECT old_iri FROM actor_moves WHERE new_iri = ?", (frontier.pop(),)
            )
            for row in rows:
                if row["old_iri"] not in found and row["old_iri"] != new_iri:
                    found.append(row["old_iri"])
                    frontier.append(row["old_iri"])
        return found
