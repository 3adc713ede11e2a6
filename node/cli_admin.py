"""Operator commands for members, tokens and invites."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from node.bootstrap import ensure_node_actors
from node.errors import NodeError, NotFound
from node.federation.http import FederationHttp
from node.services import accounts, invites, tokens
from node.services.context import NodeContext
from node.settings import load_settings
from node.storage import create_storage

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], Awaitable[int]]


@asynccontextmanager
async def open_node(args: argparse.Namespace) -> AsyncIterator[NodeContext]:
    settings = load_settings(args.data_dir)
    storage = create_storage(settings)
    await storage.open()
    try:
        context = NodeContext(settings=settings, storage=storage)
        await ensure_node_actors(context)
        async with FederationHttp(settings) as http:
            context.http = http
            yield context
    finally:
        await storage.close()


def _configure_member_create(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="username: lowercase letters, digits, underscores")
    parser.add_argument("--display-name", help="the name shown to others")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    parser.add_argument("--admin", action="store_true", help="make the member an administrator")


async def _member_create(args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise NodeError("no password on standard input")
    async with open_node(args) as ctx:
        member = await accounts.create_member(
            ctx, args.name, password=password, display_name=args.display_name, is_admin=args.admin
        )
        print(f"created member {member.username} ({ctx.urls.actor(member.username)})")
    return 0


async def _member_list(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx, ctx.storage.read() as session:
        after = 0
        while batch := await session.list_members(after_id=after, limit=500):
            for member in batch:
                flags = ["admin"] if member.is_admin else []
                if member.suspended_at:
                    flags.append("suspended")
                print(f"{member.username}\t{member.display_name}\t{','.join(flags)}")
            after = batch[-1].id
    return 0


def _configure_named(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the member's username")


def _suspension(suspended: bool) -> Run:
    async def run(args: argparse.Namespace) -> int:
        async with open_node(args) as ctx:
            member = await accounts.set_suspended(ctx, args.name, suspended)
        print(f"{member.username} is {'suspended' if suspended else 'active'}")
        return 0

    return run


def _configure_token_create(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the member who owns the token")
    parser.add_argument("--scope", choices=tokens.SCOPES, default="write")
    parser.add_argument("--label", default="cli", help="a name to recognise the token by")


async def _token_create(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        member = await accounts.get_member_by_username(ctx, args.name)
        issued = await tokens.issue_token(ctx, member, args.label, args.scope)
    # Only the secret on standard output, so scripts can capture it.
    print(issued.secret)
    return 0


async def _token_list(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        member = await accounts.get_member_by_username(ctx, args.name)
        for token in await tokens.list_tokens(ctx, member):
            state = "revoked" if token.revoked_at else "active"
            print(f"{token.id}\t{token.name}\t{token.scope}\t{state}\t{token.created_at}")
    return 0


def _configure_token_revoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the member who owns the token")
    parser.add_argument("token_id", help="the token's id, as `kula token list` shows it")


async def _token_revoke(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        member = await accounts.get_member_by_username(ctx, args.name)
        await tokens.revoke_token(ctx, member, args.token_id)
    print(f"revoked {args.token_id}")
    return 0


def _configure_invite_create(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uses", type=int, default=1, help="how many sign-ups it allows")
    parser.add_argument("--days", type=float, default=14, help="days until it expires")
    parser.add_argument("--note", default="", help="a reminder of who it is for")
    parser.add_argument("--vouch-as", metavar="USERNAME",
                        help="this member vouches for whoever signs up with the invite")


async def _invite_create(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        voucher = None
        if args.vouch_as:
            voucher = await accounts.get_member_by_username(ctx, args.vouch_as)
        issued = await invites.create_invite(
            ctx, created_by=voucher.id if voucher else None, max_uses=args.uses,
            expires_in_days=args.days, note=args.note,
            vouch_by=voucher.id if voucher else None,
        )
    print(issued.code)
    return 0


async def _invite_list(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        for invite in await invites.list_invites(ctx):
            print(json.dumps({
                "id": invite.id, "uses": invite.uses, "max_uses": invite.max_uses,
                "expires_at": invite.expires_at, "revoked": invite.revoked_at is not None,
                "note": invite.note,
            }))
    return 0


def _configure_invite_revoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("invite_id")


async def _invite_revoke(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        await invites.revoke_invite(ctx, args.invite_id)
    print(f"revoked {args.invite_id}")
    return 0


def _no_options(parser: argparse.ArgumentParser) -> None:
    pass


async def _member_promote(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx, ctx.storage.transaction() as tx:
        member = await tx.get_member_by_username(args.name)
        if member is None:
            raise NotFound(f"no member named {args.name!r}")
        await tx.set_member_admin(member.id, True)
    print(f"{args.name} is now an administrator")
    return 0


COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "member create": ("Create a member.", _configure_member_create, _member_create),
    "member list": ("List members.", _no_options, _member_list),
    "member suspend": ("Suspend a member.", _configure_named, _suspension(True)),
    "member unsuspend": ("Lift a suspension.", _configure_named, _suspension(False)),
    "member promote": ("Make a member an administrator.", _configure_named, _member_promote),
    "token create": ("Create an API token and print it.", _configure_token_create, _token_create),
    "token list": ("List a member's API tokens.", _configure_named, _token_list),
    "token revoke": ("Revoke an API token.", _configure_token_revoke, _token_revoke),
    "invite create": ("Create an invite code and print it.", _configure_invite_create,
                      _invite_create),
    "invite list": ("List invite codes.", _no_options, _invite_list),
    "invite revoke": ("Revoke an invite code.", _configure_invite_revoke, _invite_revoke),
}
