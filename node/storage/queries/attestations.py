"""Reputation attestations: only verified ones are stored."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import Attestation, AttestationEdge


def _attestation(row: Row) -> Attestation:
    data = dict(row)
    data["document"] = loads(data["document"])
    return Attestation(**data)


class AttestationQueries(QueryBase):
    async def save_attestation(self, attestation: Attestation) -> bool:
        changed = await self._exec(
            "INSERT INTO attestations (iri, issuer_iri, subject_iri, agreement_iri, issuer_role,"
            " subject_role, rating, comment, valid_from, supersedes, document, received_at,"
            " withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (iri) DO NOTHING",
            (attestation.iri, attestation.issuer_iri, attestation.subject_iri,
             attestation.agreement_iri, attestation.issuer_role, attestation.subject_role,
             attestation.rating, attestation.comment, attestation.valid_from,
             attestation.supersedes, dumps(attestation.document), attestation.received_at,
             attestation.withdrawn_at),
        )
        return changed > 0

    async def get_attestation(self, iri: str) -> Attestation | None:
        row = await self._one("SELECT * FROM attestations WHERE iri = ?", (iri,))
        return None if row is None else _attestation(row)

    async def attestations_for_agreement(
        self, issuer_iri: str, agreement_iri: str
    ) -> list[Attestation]:
        rows = await self._all(
            "SELECT * FROM attestations WHERE issuer_iri = ? AND agreement_iri = ?"
            " ORDER BY valid_from, iri",
            (issuer_iri, agreement_iri),
        )
        return [_attestation(row) for row in rows]

    async def withdraw_attestation(self, iri: str, issuer_iri: str, now: str) -> bool:
        changed = await self._exec(
            "UPDATE attestations SET withdrawn_at = ? WHERE iri = ? AND issuer_iri = ?"
            " AND withdrawn_at IS NULL",
            (now, iri, issuer_iri),
        )
        return changed > 0

    async def attestations_about(self, subject_iris: list[str]) -> list[Attestation]:
        marks = ", ".join("?" for _ in subject_iris)
        rows = await self._all(
            f"SELECT * FROM attestations WHERE subject_iri IN ({marks}) ORDER BY valid_from, iri",
            subject_iris,
        )
        return [_attestation(row) for row in rows]

    async def attestations_by(self, issuer_iri: str) -> list[Attestation]:
        rows = await self._all(
            "SELECT * FROM attestations WHERE issuer_iri = ? ORDER BY valid_from, iri",
            (issuer_iri,),
        )
        return [_attestation(row) for row in rows]

    async def attestation_edges(self) -> list[AttestationEdge]:
        """Every attestation held, withdrawn ones too (a withdrawn revision still
        supersedes the version it replaced; the reputation graph's edges are
        :func:`node.services.reputation.counted`), without their documents: the
        graph reads a hundred thousand at a time."""
        rows = await self._all(
            "SELECT iri, issuer_iri, subject_iri, agreement_iri, rating, valid_from,"
            " supersedes, withdrawn_at FROM attestations ORDER BY valid_from, iri"
        )
        return [AttestationEdge(**dict(row)) for row in rows]

    async def reputation_inputs_version(self) -> int:
        """A number that changes whenever attestations, vouches or the members
        seeding the trust graph change (triggers move it; see migration 0012)."""
        row = await self._one("SELECT version FROM reputation_inputs WHERE id = 1")
        return 0 if row is None else int(row["version"])

    async def save_attestation_reply(
        self, attestation_iri: str, note_iri: str, author_iri: str, content: str, published: str
    ) -> None:
        """The subject's answer; a new one replaces the old."""
        await self._exec(
            "INSERT INTO attestation_replies (attestation_iri, note_iri, author_iri, content,"
            " published) VALUES (?, ?, ?, ?, ?) ON CONFLICT (attestation_iri) DO UPDATE SET"
            " note_iri = excluded.note_iri, content = excluded.content,"
            " published = excluded.published",
            (attestation_iri, note_iri, author_iri, content, published),
        )

    async def attestation_reply(self, attestation_iri: str) -> tuple[str, str] | None:
        """(content, published) of the subject's answer to an attestation, if any."""
        row = await self._one(
            "SELECT content, published FROM attestation_replies WHERE attestation_iri = ?",
            (attestation_iri,),
        )
        return None if row is None else (row["content"], row["published"])
