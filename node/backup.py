"""Backups: one ``.tar.gz`` holding a consistent database snapshot, the
configuration and the media files. Taking one needs no downtime; restoring
one needs the node stopped."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from node.errors import ConfigError
from node.settings import CONFIG_FILENAME, Settings
from node.storage.sqlite import backup_sqlite_file
from node.timeutil import now_text

DATABASE_MEMBER = "kula.sqlite3"
MANIFEST_MEMBER = "manifest.json"
FORMAT_VERSION = 1


async def create_backup(
    settings: Settings, output: Path, progress: Callable[[int, int], None] | None = None
) -> None:
    """Snapshot the live database with SQLite's backup API and archive it.

    The archive is written beside ``output`` and renamed into place, so an
    interrupted backup never leaves a truncated archive under the real name.
    """
    if settings.database_url and not settings.database_url.startswith("sqlite:"):
        raise ConfigError("kula backup covers SQLite nodes; back PostgreSQL up with pg_dump")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as work:
        snapshot = Path(work) / DATABASE_MEMBER
        await asyncio.to_thread(backup_sqlite_file, settings.database_path, snapshot, progress)
        manifest = {"format": FORMAT_VERSION, "created": now_text(), "url": settings.url}
        partial = Path(work) / "archive.tar.gz"
        await asyncio.to_thread(_write_archive, partial, settings, snapshot, manifest)
        partial.replace(output)


def _write_archive(path: Path, settings: Settings, snapshot: Path, manifest: dict) -> None:
    manifest_path = snapshot.with_name(MANIFEST_MEMBER)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with tarfile.open(path, "w:gz") as archive:
        archive.add(manifest_path, MANIFEST_MEMBER)
        archive.add(snapshot, DATABASE_MEMBER)
        archive.add(settings.data_dir / CONFIG_FILENAME, CONFIG_FILENAME)
        if settings.media_dir.is_dir():
            archive.add(settings.media_dir, "media")


async def restore_backup(archive_path: Path, data_dir: Path, *, force: bool = False) -> None:
    await asyncio.to_thread(_restore, archive_path, data_dir, force)


def _restore(archive_path: Path, data_dir: Path, force: bool) -> None:
    database = data_dir / DATABASE_MEMBER
    if database.exists() and not force:
        raise ConfigError(f"{database} exists; stop the node and pass --force to replace it")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir) as work:
        staging = Path(work)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                # The "data" filter refuses absolute paths, links out of the tree and devices.
                archive.extractall(staging, filter="data")
        # gzip reports a truncated or corrupted stream as EOFError or zlib.error.
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ConfigError(f"{archive_path} is not a readable Kula backup: {exc}") from None
        _check_staging(staging)
        # Replace the pieces one by one; the database goes last so a failure
        # before it leaves the old node intact.
        if (staging / "media").is_dir():
            shutil.rmtree(data_dir / "media", ignore_errors=True)
            (staging / "media").replace(data_dir / "media")
        (staging / CONFIG_FILENAME).replace(data_dir / CONFIG_FILENAME)
        for suffix in ("-wal", "-shm"):
            (data_dir / f"{DATABASE_MEMBER}{suffix}").unlink(missing_ok=True)
        (staging / DATABASE_MEMBER).replace(database)


def _check_staging(staging: Path) -> None:
    try:
        manifest = json.loads((staging / MANIFEST_MEMBER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError("the archive has no readable manifest; is it a Kula backup?") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise ConfigError(f"unsupported backup format {manifest.get('format')!r}")
    for required in (DATABASE_MEMBER, CONFIG_FILENAME):
        if not (staging / required).is_file():
            raise ConfigError(f"the archive lacks {required}")
    connection = sqlite3.connect(staging / DATABASE_MEMBER)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"the archived database is damaged: {exc}") from None
    finally:
        connection.close()
    if not result or result[0] != "ok":
        raise ConfigError(f"the archived database failed its integrity check: {result}")
