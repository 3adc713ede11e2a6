"""Community settings an operator changes in the browser, and what the
operator's pages count and search.

The settings are ``node_settings`` rows keyed ``community.<name>``; a missing
row means "as the configuration file says".
"""

from __future__ import annotations

from node.storage.queries._base import QueryBase
from node.storage.queries.members import _member
from node.storage.records import Member

COMMUNITY_PREFIX = "community."


def _like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class CommunityQueries(QueryBase):
    async def community_overrides(self) -> dict[str, str]:
        rows = await self._all(
            "SELECT key, value FROM node_settings WHERE key LIKE ?", (COMMUNITY_PREFIX + "%",)
        )
        return {row["key"].removeprefix(COMMUNITY_PREFIX): row["value"] for row in rows}

    async def set_community_override(self, name: str, value: str | None) -> None:
        """Store one setting; None returns it to the configuration file's value."""
        key = COMMUNITY_PREFIX + name
        if value is None:
            await self._exec("DELETE FROM node_settings WHERE key = ?", (key,))
            return
        await self._exec(
            "INSERT INTO node_settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def search_members(self, query: str, *, limit: int = 100) -> list[Member]:
        """Members whose username or display name contains ``query`` (any case),
        newest first; every member, newest first, for an empty query."""
        pattern = _like_pattern(query)
        rows = await self._all(
            "SELECT * FROM members WHERE lower(username) LIKE ? ESCAPE '\\'"
            " OR lower(display_name) LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ?",
            (pattern, pattern, limit),
        )
        return [_member(row) for row in rows]
