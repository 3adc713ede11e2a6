"""The ``kula`` command line. Non-interactive: every answer comes from flags,
environment variables or standard input, so scripts and tests can drive it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from node.errors import NodeError


def _data_dir(args: argparse.Namespace) -> Path:
    value = args.data or os.environ.get("KULA_DATA")
    if not value:
        raise NodeError("say where the node's data lives: --data DIR (or KULA_DATA)")
    return Path(value).expanduser().resolve()


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="the node's data directory (default: $KULA_DATA)")


def build_parser() -> argparse.ArgumentParser:
    from node.cli_commands import COMMANDS, GROUP_HELP

    parser = argparse.ArgumentParser(
        prog="kula", description="Run and administer a Kula community node."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, Any] = {}
    for path, (help_text, configure, _) in COMMANDS.items():
        *group_name, name = path.split()
        target = sub
        if group_name:
            group = group_name[0]
            if group not in groups:
                group_parser = sub.add_parser(
                    group, help=GROUP_HELP[group], description=GROUP_HELP[group]
                )
                groups[group] = group_parser.add_subparsers(
                    dest=f"{group}_command", required=True, metavar="COMMAND"
                )
            target = groups[group]
        command = target.add_parser(name, help=help_text, description=help_text)
        _add_data(command)
        configure(command)
        command.set_defaults(command_path=path)
    return parser


def main(argv: list[str] | None = None) -> int:
    from node.cli_commands import COMMANDS

    # Keys, database and backups must be readable by the node's user only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    _, _, run = COMMANDS[args.command_path]
    try:
        args.data_dir = _data_dir(args)
        return asyncio.run(run(args))
    except NodeError as exc:
        print(f"kula: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
