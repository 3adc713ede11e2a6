"""Bearer tokens with scopes. Only SHA-256 hashes are stored; the secret is shown once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from node.errors import Forbidden, NotFound, StorageUnavailable, Unauthorized, ValidationFailed
from node.ids import new_id, new_secret, secret_hash
from node.services.context import NodeContext
from node.storage.records import Member, Token
from node.timeutil import later_text, now_text

SCOPES = ("read", "write", "admin")
#: A scope grants itself and every scope before it in this order.
_SCOPE_RANK = {scope: rank for rank, scope in enumerate(SCOPES)}
SESSION_DAYS = 30
#: ``last_used_at`` is recorded with this resolution.
TOUCH_MINUTES = 10


@dataclass(frozen=True)
class IssuedToken:
    token: Token
    secret: str


@dataclass(frozen=True)
class Principal:
    """Who is calling, and with which grant."""

    member: Member
    token: Token

    def allows(self, scope: str) -> bool:
        return _SCOPE_RANK[self.token.scope] >= _SCOPE_RANK[scope]


async def issue_token(
    ctx: NodeContext,
    member: Member,
    name: str,
    scope: str,
    *,
    kind: str = "api",
    expires_at: str | None = None,
) -> IssuedToken:
    if scope not in SCOPES:
        raise ValidationFailed(
            f"scope must be one of {', '.join(SCOPES)}",
            errors=[{"pointer": "/scope", "reason": "enum"}],
        )
    if scope == "admin" and not member.is_admin:
        raise Forbidden("only administrators can hold admin tokens")
    if kind == "session" and expires_at is None:
        expires_at = later_text(days=SESSION_DAYS)
    secret = new_secret("kula")
    token_id = new_id()
    async with ctx.storage.transaction() as tx:
        await tx.insert_token(
            token_id=token_id,
            member_id=member.id,
            name=name,
            scope=scope,
            kind=kind,
            token_hash=secret_hash(secret),
            created_at=now_text(),
            expires_at=expires_at,
        )
        token = await tx.get_token(token_id)
    assert token is not None
    return IssuedToken(token=token, secret=secret)


async def authenticate_token(ctx: NodeContext, secret: str) -> Principal:
    async with ctx.storage.read() as session:
        token = await session.get_token_by_hash(secret_hash(secret))
        member = await session.get_member(token.member_id) if token else None
    now = now_text()
    if token is None or member is None:
        raise Unauthorized("the token is not valid")
    if token.revoked_at is not None:
        raise Unauthorized("the token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("the token has expired")
    if not member.active:
        raise Forbidden("this account is suspended")
    if token.last_used_at is None or token.last_used_at <= later_text(minutes=-TOUCH_MINUTES):
        # At most one write per token and interval, so reads stay reads; and a
        # read still works while the database refuses writes (disk full).
        try:
            async with ctx.storage.transaction() as tx:
                await tx.touch_token(token.id, now)
            token = replace(token, last_used_at=now)
        except StorageUnavailable:
            pass
    return Principal(member=member, token=token)


async def list_tokens(ctx: NodeContext, member: Member) -> list[Token]:
    async with ctx.storage.read() as session:
        return await session.list_tokens(member.id)


async def revoke_token(ctx: NodeContext, member: Member, token_id: str) -> None:
    async with ctx.storage.transaction() as tx:
        token = await tx.get_token(token_id)
        if token is None or token.member_id != member.id:
            raise NotFound("no such token")
        await tx.revoke_token(token_id, now_text())
