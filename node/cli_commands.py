"""The node lifecycle commands: init, serve, migrate, backup, restore.

Administration of members, tokens and invites is in :mod:`node.cli_admin`.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from node import cli_admin, cli_federation, cli_storage
from node.backup import create_backup, restore_backup
from node.errors import ConfigError, NodeError
from node.progress import ProgressMeter, cancel_on_sigterm, command_line_sink
from node.settings import (
    CONFIG_FILENAME,
    Settings,
    load_settings,
    render_config,
    settings_from_mapping,
    with_overrides,
)
from node.typedefs import storage_key

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], Awaitable[int]]


def _is_development_url(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def _configure_init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="public base URL, e.g. https://tools.example")
    parser.add_argument("--name", default="Kula community", help="the community's name")
    parser.add_argument(
        "--allow-private-network",
        action="store_true",
        help="federate with loopback and private addresses (development and tests only)",
    )
    parser.add_argument(
        "--registration", choices=("open", "invite", "closed"), default="invite"
    )
    parser.add_argument("--port", type=int, help="port `kula serve` listens on")


async def _init(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir
    config_path = data_dir / CONFIG_FILENAME
    if config_path.exists():
        raise NodeError(f"{config_path} already exists; this data directory is initialised")
    development = _is_development_url(args.url) or args.allow_private_network
    values: dict[str, object] = {"url": args.url.rstrip("/"), "name": args.name}
    values["registration"] = args.registration
    if args.port:
        values["port"] = args.port
    if development:
        values["development"] = True
    if args.allow_private_network:
        values["allow_private_network"] = True
    # Validate before writing anything, so a bad URL leaves no half-made directory.
    settings_from_mapping(data_dir, values, {})
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    temporary = config_path.with_suffix(".tmp")
    temporary.write_text(render_config(values), encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(config_path)
    settings = load_settings(data_dir, {})
    settings.media_dir.mkdir(exist_ok=True)

    from node.bootstrap import ensure_node_actors
    from node.services.context import NodeContext
    from node.storage import create_storage

    storage = create_storage(settings)
    await storage.open()
    try:
        await ensure_node_actors(NodeContext(settings=settings, storage=storage))
    finally:
        await storage.close()
    print(f"Initialised {settings.name!r} at {data_dir} for {settings.url}")
    if development:
        print("development mode is on: this URL is not a public https address")
    return 0


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default from the configuration)")
    parser.add_argument("--port", type=int, help="port to listen on")
    parser.add_argument(
        "--no-workers", action="store_true", help="serve only; run `kula worker` separately"
    )


async def _serve(args: argparse.Namespace) -> int:
    from node.app import create_app
    from node.heap import freeze_startup_objects
    from node.logsetup import configure_logging

    settings = with_overrides(load_settings(args.data_dir), host=args.host, port=args.port)
    configure_logging(settings.log_level, settings.log_format, buffered=True)
    app = create_app(settings, run_workers=not args.no_workers and settings.run_workers)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    freeze_startup_objects()
    await _print_start_hint(app, settings)
    try:
        await _wait_forever()
    finally:
        await runner.cleanup()
    return 0


async def _wait_forever() -> None:
    await asyncio.Event().wait()


async def _print_start_hint(app: web.Application, settings: Settings) -> None:
    async with app[storage_key].read() as session:
        members = await session.count_members(active_only=False)
    print(
        f"Kula is serving {settings.url} (listening on {settings.host}:{settings.port})",
        flush=True,
    )
    if members == 0:
        data = settings.data_dir
        print(
            "No members yet. Create the first administrator and a token:\n"
            f"  echo 'a long password' | .venv/bin/kula member create operator --admin"
            f" --password-stdin --data {data}\n"
            f"  .venv/bin/kula token create operator --scope admin --data {data}\n"
            f"In a browser, log in as operator at {settings.url}/login (members sign up at"
            f" {settings.url}/signup; the operator's console is {settings.url}/admin).\n"
            "Programs use the token as 'Authorization: Bearer TOKEN' on the API"
            f" ({settings.url}/api/v1/openapi.json describes it), or log in with"
            f" POST {settings.url}/api/v1/sessions.",
            flush=True,
        )


async def _migrate(args: argparse.Namespace) -> int:
    from node.storage import create_storage

    storage = create_storage(load_settings(args.data_dir))
    await storage.open()  # opening applies pending migrations
    try:
        version = await storage.schema_version()
    finally:
        await storage.close()
    print(f"database schema is at version {version}")
    return 0


def _configure_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, help="where to write the .tar.gz archive")


async def _backup(args: argparse.Namespace) -> int:
    settings = load_settings(args.data_dir)
    output = Path(args.output).expanduser().resolve()
    sink = command_line_sink(sys.stderr, settings.log_format)
    try:
        with cancel_on_sigterm():
            await create_backup(
                settings, output, ProgressMeter("backup: database", "pages", sink),
                archive_progress=ProgressMeter("backup: archive", "files", sink),
            )
    except asyncio.CancelledError:
        # Ctrl-C or SIGTERM: the work directory is gone and `output` is untouched.
        print(f"\nkula: backup interrupted; {output} was not written", file=sys.stderr)
        return 130
    print(f"backup written to {output}")
    return 0


def _configure_restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("archive", help="a .tar.gz archive made by `kula backup`")
    parser.add_argument(
        "--force", action="store_true", help="replace an existing database in the data directory"
    )


async def _restore(args: argparse.Namespace) -> int:
    archive = Path(args.archive).expanduser().resolve()
    if not archive.is_file():
        raise ConfigError(f"no archive at {archive}")
    sink = command_line_sink(sys.stderr)
    try:
        with cancel_on_sigterm():
            await restore_backup(
                archive, args.data_dir, force=args.force,
                progress=ProgressMeter("restore", "files", sink),
            )
    except asyncio.CancelledError:
        print(f"\nkula: restore interrupted; {args.data_dir} was not changed", file=sys.stderr)
        return 130
    print(f"restored {archive} into {args.data_dir}")
    return 0


def _no_options(parser: argparse.ArgumentParser) -> None:
    pass


GROUP_HELP = {
    "member": "Manage members.",
    "token": "Manage API tokens.",
    "invite": "Manage invite codes.",
    **cli_federation.GROUP_HELP,
}

COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "init": ("Create a data directory, configuration, database and keys.", _configure_init, _init),
    "serve": ("Run the node: web, API, inbox and workers.", _configure_serve, _serve),
    "migrate": ("Apply pending database migrations.", _no_options, _migrate),
    "backup": ("Write a consistent snapshot of a (running) node.", _configure_backup, _backup),
    "restore": ("Restore a snapshot into a stopped node's data directory.",
                _configure_restore, _restore),
    **cli_admin.COMMANDS,
    **cli_federation.COMMANDS,
    **cli_storage.COMMANDS,
}
