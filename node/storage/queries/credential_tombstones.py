"""Revocations of credentials that arrived before the credential itself."""

from __future__ import annotations

from node.storage.queries._base import QueryBase


class CredentialTombstoneQueries(QueryBase):
    async def remember_credential_deletion(
        self, iri: str, issuer_iri: str, deleted_at: str, forget_before: str
    ) -> None:
        """Record ``issuer_iri``'s deletion of ``iri``; entries older than
        ``forget_before`` are dropped, which is what keeps the table bounded."""
        await self._exec(
            "DELETE FROM credential_tombstones WHERE deleted_at < ?", (forget_before,)
        )
        await self._exec(
            "INSERT INTO credential_tombstones (iri, issuer_iri, deleted_at) VALUES (?, ?, ?)"
            " ON CONFLICT (iri, issuer_iri) DO NOTHING",
            (iri, issuer_iri, deleted_at),
        )

    async def take_credential_deletion(self, iri: str, issuer_iri: str) -> str | None:
        """When ``issuer_iri`` deleted ``iri`` before it arrived, if it did; the
        entry is used up (the credential's own row carries the revocation from now)."""
        rows = await self._all(
            "DELETE FROM credential_tombstones WHERE iri = ? AND issuer_iri = ?"
            " RETURNING deleted_at",
            (iri, issuer_iri),
        )
        return rows[0]["deleted_at"] if rows else None
