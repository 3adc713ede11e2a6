"""Vouches (verified before they are stored) and invites that carry one."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import VouchRecord


def _vouch(row: Row) -> VouchRecord:
    data = dict(row)
    data["document"] = loads(data["document"])
    return VouchRecord(**data)


class VouchQueries(QueryBase):
    async def save_vouch(self, vouch: VouchRecord) -> bool:
        """Keep a vouch; False when its id is already held (revoked or not)."""
        changed = await self._exec(
            "INSERT INTO vouches (iri, issuer_iri, subject_iri, valid_from, document,"
            " received_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (iri) DO NOTHING",
            (vouch.iri, vouch.issuer_iri, vouch.subject_iri, vouch.valid_from,
             dumps(vouch.document), vouch.received_at, vouch.revoked_at),
        )
        return changed > 0

    async def get_vouch(self, iri: str) -> VouchRecord | None:
        row = await self._one("SELECT * FROM vouches WHERE iri = ?", (iri,))
        return None if row is None else _vouch(row)

    async def current_vouch(self, issuer_iri: str, subject_iri: str) -> VouchRecord | None:
        """The issuer's unrevoked vouch for the subject, the latest if there are several."""
        row = await self._one(
            "SELECT * FROM vouches WHERE issuer_iri = ? AND subject_iri = ?"
            " AND revoked_at IS NULL ORDER BY valid_from DESC, iri DESC LIMIT 1",
            (issuer_iri, subject_iri),
        )
        return None if row is None else _vouch(row)

    async def revoke_vouch(self, iri: str, issuer_iri: str, now: str) -> bool:
        changed = await self._exec(
            "UPDATE vouches SET revoked_at = ? WHERE iri = ? AND issuer_iri = ?"
            " AND revoked_at IS NULL",
            (now, iri, issuer_iri),
        )
        return changed > 0

    async def revoke_vouches_by(self, issuer_iri: str, now: str) -> int:
        """Revoke every vouch of an issuer (whose account is gone); return how many."""
        return await self._exec(
            "UPDATE vouches SET revoked_at = ? WHERE issuer_iri = ? AND revoked_at IS NULL",
            (now, issuer_iri),
        )

    async def vouches_about(self, subject_iri: str) -> list[VouchRecord]:
        """Unrevoked vouches for the subject."""
        rows = await self._all(
            "SELECT * FROM vouches WHERE subject_iri = ? AND revoked_at IS NULL"
            " ORDER BY valid_from, iri",
            (subject_iri,),
        )
        return [_vouch(row) for row in rows]

    async def vouches_by(self, issuer_iri: str) -> list[VouchRecord]:
        """The issuer's unrevoked vouches."""
        rows = await self._all(
            "SELECT * FROM vouches WHERE issuer_iri = ? AND revoked_at IS NULL"
            " ORDER BY valid_from, iri",
            (issuer_iri,),
        )
        return [_vouch(row) for row in rows]

    async def all_current_vouches(self) -> list[VouchRecord]:
        """Every unrevoked vouch (trust edges of the reputation graph)."""
        rows = await self._all(
            "SELECT * FROM vouches WHERE revoked_at IS NULL ORDER BY valid_from, iri"
        )
        return [_vouch(row) for row in rows]

    async def set_invite_voucher(self, invite_id: str, member_id: int) -> None:
        await self._exec(
            "INSERT INTO invite_vouchers (invite_id, member_id) VALUES (?, ?)",
            (invite_id, member_id),
        )

    async def invite_voucher(self, code_hash: str) -> int | None:
        """The member an invite carries a vouch from, if it carries one."""
        row = await self._one(
            "SELECT v.member_id FROM invite_vouchers v JOIN invites i ON i.id = v.invite_id"
            " WHERE i.code_hash = ?",
            (code_hash,),
        )
        return None if row is None else int(row["member_id"])

    async def invite_vouchers(self) -> dict[str, int]:
        """Invite id -> the member each vouching invite carries a vouch from."""
        rows = await self._all("SELECT invite_id, member_id FROM invite_vouchers")
        return {row["invite_id"]: int(row["member_id"]) for row in rows}
