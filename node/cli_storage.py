"""Operator commands for the database itself: moving a community between backends."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from node.errors import ConfigError
from node.storage.migrate_db import Progress, log_progress, migrate_database, storage_from_url

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], Awaitable[int]]


def _configure_migrate_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="source", required=True, metavar="URL",
        help="the database to copy: sqlite:PATH (relative to --data) or postgresql://...",
    )
    parser.add_argument(
        "--to", dest="target", required=True, metavar="URL",
        help="the database to fill, e.g. postgresql://kula@db.example/kula",
    )
    parser.add_argument(
        "--batch-size", type=int, default=500, help="rows per committed batch (default 500)"
    )


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def terminal_progress(stream: TextIO) -> Callable[[Progress], None]:
    """One self-overwriting line per table: rows done, rate and time left."""

    def report(progress: Progress) -> None:
        line = (
            f"{progress.table}: {progress.done}/{progress.total} rows,"
            f" {progress.rows_per_second:.0f} rows/s,"
            f" {_format_seconds(progress.seconds_left)} left"
        )
        finished = progress.done >= progress.total
        stream.write(f"\r\x1b[K{line}" + ("\n" if finished else ""))
        stream.flush()

    return report


async def _migrate_db(args: argparse.Namespace) -> int:
    if args.source == args.target:
        raise ConfigError("--from and --to name the same database")
    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if sys.stderr.isatty():
        on_progress = terminal_progress(sys.stderr)
    else:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        on_progress = log_progress
    source = storage_from_url(args.source, args.data_dir)
    target = storage_from_url(args.target, args.data_dir)
    await source.open()
    try:
        await target.open()
        try:
            report = await migrate_database(
                source, target, batch_size=args.batch_size, on_progress=on_progress
            )
        finally:
            await target.close()
    finally:
        await source.close()
    for table, (in_source, in_target, inserted) in report.tables.items():
        print(f"{table}: {in_target}/{in_source} rows ({inserted} copied this run)")
    print(f"search index rebuilt for {report.indexed_listings} listings")
    print(
        "every table matches its source. Point the node at the new database (database_url"
        " in kula.toml, or KULA_DATABASE_URL, set to the --to URL) and restart it."
    )
    return 0


GROUP_HELP: dict[str, str] = {}

COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "migrate-db": (
        "Copy every table to another database (e.g. SQLite to PostgreSQL); resumable.",
        _configure_migrate_db,
        _migrate_db,
    ),
}
