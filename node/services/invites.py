"""Invite codes for invite-only registration. An invite may carry a vouch: the
member who made it vouches for whoever signs up with it."""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import NotFound, ValidationFailed
from node.ids import new_id, new_secret, secret_hash
from node.services import vouches
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Invite, Member
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
    vouch_by: int | None = None,
) -> IssuedInvite:
    """A new invite code; with ``vouch_by`` (a member id) each sign-up with it
    is vouched for by that member (issued when the invitee signs up)."""
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
        if vouch_by is not None:
            await tx.set_invite_voucher(invite_id, vouch_by)
        invites = [i for i in await tx.list_invites() if i.id == invite_id]
    return IssuedInvite(invite=invites[0], code=code)


async def list_invites(ctx: NodeContext) -> list[Invite]:
    async with ctx.storage.read() as session:
        return await session.list_invites()


async def revoke_invite(ctx: NodeContext, invite_id: str) -> None:
    async with ctx.storage.transaction() as tx:
        if not await tx.revoke_invite(invite_id, now_text()):
            raise NotFound("no such active invite")


async def vouch_for_invitee(
    ctx: NodeContext, session: Session, code_hash: str, invitee: Member
) -> None:
    """If the invite just used carries a vouch, its member vouches for ``invitee``
    (within the sign-up's transaction; a suspended or departed voucher vouches for nobody)."""
    voucher_id = await session.invite_voucher(code_hash)
    voucher = None if voucher_id is None else await session.get_member(voucher_id)
    if voucher is None or not voucher.active or voucher.id == invitee.id:
        return
    await vouches.issue_in(ctx, session, voucher, ctx.urls.actor(invitee.username))
