"""Members: creation (by CLI or registration), login, passwords, suspension."""

from __future__ import annotations

import asyncio
import re

from node.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from node.ids import secret_hash
from node.keys import generate_key_pems
from node.services import invites
from node.services.actors import member_actor, member_document
from node.services.community import community_profile
from node.services.context import NodeContext
from node.services.outbox import publish_actor_update
from node.services.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from node.storage.base import Session
from node.storage.records import Member
from node.timeutil import now_text

USERNAME_PATTERN = re.compile(r"^[a-z0-9_]{1,30}$")
#: Names that would shadow the node's own actors or pages.
RESERVED_USERNAMES = frozenset(
    {"admin", "actor", "api", "inbox", "instance", "kula", "media", "nodeinfo", "root", "system"}
)


def check_username(ctx: NodeContext, username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValidationFailed(
            "username must be 1 to 30 lowercase letters, digits or underscores",
            errors=[{"pointer": "/username", "reason": "pattern"}],
        )
    if username in RESERVED_USERNAMES or username == ctx.settings.community_handle:
        raise Conflict(f"username {username!r} is reserved")
    return username


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            errors=[{"pointer": "/password", "reason": "length"}],
        )


async def create_member(
    ctx: NodeContext,
    username: str,
    *,
    password: str | None,
    display_name: str | None = None,
    is_admin: bool = False,
    invite_code: str | None = None,
) -> Member:
    """Create a member with fresh keys. With ``invite_code``, one use of the invite
    is spent in the same transaction, so a failed creation never burns it."""
    check_username(ctx, username)
    if password is not None:
        check_password(password)
    password_hash = await hash_password(password) if password is not None else None
    # RSA-2048 generation takes tens of milliseconds: keep it off the event loop.
    keys = await asyncio.to_thread(generate_key_pems)
    async with ctx.storage.transaction() as tx:
        if await tx.get_member_by_username(username) is not None:
            raise Conflict(f"username {username!r} is taken")
        if invite_code is not None and not await tx.use_invite(
            secret_hash(invite_code), now_text()
        ):
            raise Forbidden("the invite code is unknown, used up, expired or revoked")
        member_id = await tx.insert_member(
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            is_admin=is_admin,
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
            created_at=now_text(),
        )
        member = await tx.get_member(member_id)
        if invite_code is not None and member is not None:
            await invites.vouch_for_invitee(ctx, tx, secret_hash(invite_code), member)
    assert member is not None
    return member


async def register(
    ctx: NodeContext, username: str, password: str, invite_code: str | None
) -> Member:
    """Self-service sign-up, as the community's registration mode allows."""
    mode = (await community_profile(ctx)).registration
    if mode == "closed":
        raise Forbidden("registration on this node is closed")
    if mode == "invite" and not invite_code:
        raise Forbidden("registration on this node needs an invite code")
    return await create_member(
        ctx, username, password=password, invite_code=invite_code if mode == "invite" else None
    )


async def authenticate(ctx: NodeContext, username: str, password: str) -> Member:
    async with ctx.storage.read() as session:
        member = await session.get_member_by_username(username)
    valid = await verify_password(member.password_hash if member else None, password)
    if member is None or not valid:
        raise Unauthorized("unknown username or wrong password")
    if not member.active:
        raise Forbidden("this account is suspended")
    return member


async def change_password(
    ctx: NodeContext, member: Member, current: str, new: str, *, keep_session: str | None = None
) -> None:
    """Set a new password and sign out every other login session (a changed
    password is often a response to someone else knowing the old one). API
    tokens stay: they are revoked one by one."""
    if not await verify_password(member.password_hash, current):
        raise Unauthorized("the current password is wrong")
    check_password(new)
    new_hash = await hash_password(new)
    async with ctx.storage.transaction() as tx:
        await tx.set_member_password(member.id, new_hash)
        await tx.revoke_sessions(member.id, now_text(), keep=keep_session)


async def get_member_by_username(ctx: NodeContext, username: str) -> Member:
    async with ctx.storage.read() as session:
        member = await session.get_member_by_username(username)
    if member is None:
        raise NotFound(f"no member named {username!r}")
    return member


async def set_suspended(ctx: NodeContext, username: str, suspended: bool) -> Member:
    async with ctx.storage.transaction() as tx:
        member = await tx.get_member_by_username(username)
        if member is None:
            raise NotFound(f"no member named {username!r}")
        await tx.set_member_suspended(member.id, now_text() if suspended else None)
        updated = await tx.get_member(member.id)
    assert updated is not None
    return updated


MAX_DISPLAY_NAME_LENGTH = 100
MAX_SUMMARY_LENGTH = 2000


async def update_profile(
    ctx: NodeContext,
    member: Member,
    *,
    display_name: str,
    summary: str,
    manually_approves_followers: bool,
    also_known_as: list[str] | None = None,
) -> Member:
    """Change what others see of a member (the limits of api-profile-update-request).
    ``also_known_as`` are already resolved actor IRIs (None leaves them); when
    the actor document changes, the member's followers are sent an ``Update``."""
    errors = []
    if not 1 <= len(display_name) <= MAX_DISPLAY_NAME_LENGTH:
        errors.append({"pointer": "/display_name", "reason": "length"})
    if len(summary) > MAX_SUMMARY_LENGTH:
        errors.append({"pointer": "/summary", "reason": "maxLength"})
    if errors:
        raise ValidationFailed(
            f"a display name is 1 to {MAX_DISPLAY_NAME_LENGTH} characters and a summary "
            f"at most {MAX_SUMMARY_LENGTH}",
            errors=errors,
        )
    async with ctx.storage.transaction() as tx:
        before = await tx.get_member(member.id)
        assert before is not None
        await tx.update_member_profile(
            member.id, display_name=display_name, summary=summary,
            manually_approves_followers=manually_approves_followers,
        )
        if also_known_as is not None:
            await tx.set_member_aliases(member.id, also_known_as)
        return await publish_profile_update(ctx, tx, before)


async def publish_profile_update(ctx: NodeContext, session: Session, before: Member) -> Member:
    """The member as ``session`` now holds them; when their actor document is no
    longer ``before``'s, an ``Update`` of it is queued to their followers in the
    same transaction (an edit that changes nothing visible sends nothing)."""
    after = await session.get_member(before.id)
    assert after is not None
    document = member_document(ctx, after)
    if document != member_document(ctx, before):
        await publish_actor_update(ctx, session, member_actor(ctx, after), document)
    return after
