"""Operator commands for federation: partner communities, host policies, the
delivery queue, and the standalone worker process."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable

from node.cli_admin import open_node
from node.heap import freeze_startup_objects
from node.logsetup import configure_logging
from node.services import federation_admin, peers
from node.settings import load_settings
from node.workers.runner import run_background_workers

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], Awaitable[int]]


def _configure_host(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", help="a host name such as tools.example.org")


def _configure_policy(parser: argparse.ArgumentParser) -> None:
    _configure_host(parser)
    parser.add_argument("--note", default="", help="why, for the record")


def _no_options(parser: argparse.ArgumentParser) -> None:
    pass


def _configure_queue_action(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="only deliveries to this host")


async def _peer_add(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        peer = await peers.add_peer(ctx, args.host)
    print(f"following {peer.group_iri}; its listings arrive once it accepts")
    return 0


async def _peer_remove(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        await peers.remove_peer(ctx, args.host)
    print(f"no longer peering with {args.host}")
    return 0


async def _peer_list(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        for peer, state in await peers.list_peers(ctx):
            print(f"{peer.host}\t{peer.group_iri}\t{state}")
    return 0


def _policy(policy: str) -> Run:
    async def run(args: argparse.Namespace) -> int:
        async with open_node(args) as ctx:
            await federation_admin.set_policy(ctx, args.host, policy, args.note)
        print(f"{args.host}: {policy}ed" if policy == "block" else f"{args.host}: allowed")
        return 0

    return run


async def _unblock(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        await federation_admin.clear_policy(ctx, args.host)
    print(f"{args.host}: no policy")
    return 0


async def _policy_list(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        for record in await federation_admin.list_policies(ctx):
            print(f"{record.host}\t{record.policy}\t{record.note}")
    return 0


async def _purge(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        removed = await federation_admin.purge_host(ctx, args.host)
    print(f"removed {removed} listings and every actor and follow of {args.host}")
    return 0


async def _queue_status(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        status = await federation_admin.queue_status(ctx)
    print(json.dumps(status.as_json(), indent=2))
    return 0


async def _queue_retry(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        count = await federation_admin.retry_failed(ctx, args.host)
    print(f"requeued {count} failed deliveries")
    return 0


async def _queue_drop(args: argparse.Namespace) -> int:
    async with open_node(args) as ctx:
        count = await federation_admin.drop_failed(ctx, args.host)
    print(f"dropped {count} failed deliveries")
    return 0


async def _worker(args: argparse.Namespace) -> int:
    settings = load_settings(args.data_dir)
    configure_logging(settings.log_level, settings.log_format, buffered=True)
    async with open_node(args) as ctx, run_background_workers(ctx):
        freeze_startup_objects()
        print("kula worker running", flush=True)
        await asyncio.Event().wait()
    return 0


GROUP_HELP = {
    "peer": "Manage partner communities.",
    "federation": "Manage which hosts this node federates with.",
    "queue": "Inspect and manage the delivery queue.",
}

COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "peer add": ("Make this community follow another Kula community.", _configure_host,
                 _peer_add),
    "peer remove": ("Stop following a partner community.", _configure_host, _peer_remove),
    "peer list": ("List partner communities.", _no_options, _peer_list),
    "federation block": ("Block a host at once.", _configure_policy, _policy("block")),
    "federation allow": ("Allow a host (for allow-list federation).", _configure_policy,
                         _policy("allow")),
    "federation unblock": ("Remove a host's block or allow.", _configure_host, _unblock),
    "federation list": ("List host policies.", _no_options, _policy_list),
    "federation purge": ("Delete everything held from a host.", _configure_host, _purge),
    "queue status": ("Delivery counts per state, oldest pending, failing hosts.",
                     _no_options, _queue_status),
    "queue retry": ("Retry failed deliveries.", _configure_queue_action, _queue_retry),
    "queue drop": ("Drop failed deliveries.", _configure_queue_action, _queue_drop),
    "worker": ("Run delivery and inbox workers without serving HTTP.", _no_options, _worker),
}
