"""Keys of the node's own actors (instance actor, community group)."""

from __future__ import annotations

from node.storage.queries._base import QueryBase
from node.storage.records import NodeKeys


class KeyQueries(QueryBase):
    async def get_node_keys(self, name: str) -> NodeKeys | None:
        row = await self._one("SELECT * FROM node_keys WHERE name = ?", (name,))
        return None if row is None else NodeKeys(**dict(row))

    async def insert_node_keys(self, keys: NodeKeys) -> None:
        """Store keys unless another process stored some first (theirs win)."""
        await self._exec(
            "INSERT INTO node_keys (name, rsa_private_pem, ed25519_private_pem, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (keys.name, keys.rsa_private_pem, keys.ed25519_private_pem, keys.created_at),
        )

    async def get_setting(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM node_settings WHERE key = ?", (key,))
        return None if row is None else row["value"]

    async def put_setting(self, key: str, value: str) -> None:
        await self._exec(
            "INSERT INTO node_settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
