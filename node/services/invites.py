"""Invite codes for invite-only registration."""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import NotFound, ValidationFailed
from node.ids import new_id, new_secret, secret_hash
from node.services.context import NodeContext
from node.storage.records import Invite
from node.timeutil import later_text, now_text


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    code: str


async def create_invite(
    ctx: NodeContext,
    *,
    created_by: int | None,
    max_uses: int = 1,
    expires_in_days: float | None = 14,
    note: str = "",
) -> IssuedInvite:
    if not 1 <= max_uses <= 10_000:
        raise ValidationFailed("max_uses must be between 1 and 10000")
    code = new_secret("invite")
    invite_id = new_id()
    async with ctx.storage.transaction() as tx:
        await tx.insert_invite(
            invite_id=invite_id,
            code_hash=secret_hash(code),
            created_by=created_by,
            note=note,
            max_uses=max_uses,
            created_at=now_text(),
            expires_at=later_text(days=expires_in_days) if expires_in_days else None,
        )
        invites = [i for i in await tx.list_invites() if i.id == invite_id]
    return IssuedInvite(invite=invites[0], code=code)


async def list_invites(ctx: NodeContext) -> list[Invite]:
    async with ctx.storage.read() as session:
        return await session.list_invites()


async def revoke_invite(ctx: NodeContext, invite_id: str) -> None:
    async with ctx.storage.transaction() as tx:
        if not await tx.revoke_invite(invite_id, now_text()):
            raise NotFound("no such active invite")
