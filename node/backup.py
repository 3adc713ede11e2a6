"""Backups: one ``.tar.gz`` holding a consistent database snapshot, the
configuration and the media files. Taking one needs no downtime; restoring
one needs the node stopped.

Both run in a worker thread through :func:`node.progress.run_interruptible`,
report progress (database pages, then archive members) and stop cleanly when
interrupted. A backup is built in a hidden work directory beside its output
and renamed into place, so the output name only ever holds a whole archive;
work directories left by a killed backup are removed by the next one. A
restore unpacks and verifies everything in a work directory inside the data
directory first; only then does it swap the pieces in, each with one rename,
after writing a journal, so a restore killed while swapping is finished by
the next ``kula restore`` instead of leaving a mixed node.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from node.errors import ConfigError
from node.progress import StopSignal, run_interruptible
from node.settings import CONFIG_FILENAME, Settings
from node.storage.sqlite import backup_sqlite_file
from node.timeutil import now_text

DATABASE_MEMBER = "kula.sqlite3"
MANIFEST_MEMBER = "manifest.json"
MEDIA_MEMBER = "media"
FORMAT_VERSION = 1
BACKUP_WORK_PREFIX = ".kula-backup-"
RESTORE_WORK_PREFIX = ".kula-restore-"
#: Pieces of a data directory in the order a restore swaps them; the database last.
_RESTORED = (MEDIA_MEMBER, CONFIG_FILENAME, f"{DATABASE_MEMBER}-wal", f"{DATABASE_MEMBER}-shm",
             DATABASE_MEMBER)
_JOURNAL = "swap.json"

#: ``progress(done, total)``: database pages while snapshotting, archive members after.
Progress = Callable[[int, int], None]


async def create_backup(
    settings: Settings,
    output: Path,
    progress: Progress | None = None,
    *,
    archive_progress: Progress | None = None,
) -> None:
    """Snapshot the live database with SQLite's backup API and archive it with
    the configuration and media at ``output``."""
    if settings.database_url and not settings.database_url.startswith("sqlite:"):
        raise ConfigError("kula backup covers SQLite nodes; back PostgreSQL up with pg_dump")
    output.parent.mkdir(parents=True, exist_ok=True)
    await run_interruptible(partial(_backup, settings, output, progress, archive_progress))


def _backup(
    settings: Settings, output: Path, pages: Progress | None, members: Progress | None,
    stop: StopSignal,
) -> None:
    with _exclusive(output.parent, "a backup into"):
        _remove_stale(output.parent, BACKUP_WORK_PREFIX)
        with tempfile.TemporaryDirectory(prefix=BACKUP_WORK_PREFIX, dir=output.parent) as work:
            snapshot = Path(work) / DATABASE_MEMBER

            def on_pages(done: int, total: int) -> None:
                stop.check()  # raising here makes SQLite abort the copy
                if pages is not None:
                    pages(done, total)

            backup_sqlite_file(settings.database_path, snapshot, on_pages)
            stop.check()
            media = _media_entries(settings.media_dir)
            manifest = {
                "format": FORMAT_VERSION, "created": now_text(), "url": settings.url,
                # Restore's progress total; media may change while the backup runs.
                "members": 3 + len(media),
            }
            partial_archive = Path(work) / "archive.tar.gz"
            _write_archive(partial_archive, settings, snapshot, manifest, media, stop, members)
            _fsync(partial_archive)
            partial_archive.replace(output)
            _fsync(output.parent)


def _media_entries(media_dir: Path) -> list[tuple[Path, str]]:
    """Every directory and file under ``media_dir`` with its name in the archive."""
    if not media_dir.is_dir():
        return []
    entries = [(media_dir, MEDIA_MEMBER)]
    for root, dirs, files in os.walk(media_dir):
        dirs.sort()
        for name in (*dirs, *sorted(files)):
            path = Path(root) / name
            entries.append((path, f"{MEDIA_MEMBER}/{path.relative_to(media_dir).as_posix()}"))
    return entries


def _write_archive(
    path: Path, settings: Settings, snapshot: Path, manifest: dict[str, object],
    media: list[tuple[Path, str]], stop: StopSignal, progress: Progress | None,
) -> None:
    manifest_path = snapshot.with_name(MANIFEST_MEMBER)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    entries = [
        (manifest_path, MANIFEST_MEMBER),  # first, so a restore learns the total at once
        (snapshot, DATABASE_MEMBER),
        (settings.data_dir / CONFIG_FILENAME, CONFIG_FILENAME),
        *media,
    ]
    total = len(entries)
    with tarfile.open(path, "w:gz") as archive:
        for done, (source, name) in enumerate(entries, start=1):
            stop.check()
            try:
                archive.add(source, name, recursive=False)
            except FileNotFoundError:
                if not name.startswith(f"{MEDIA_MEMBER}/"):
                    raise
                # An image deleted by the running node since the walk: nothing to keep.
            if progress is not None:
                progress(done, total)


async def restore_backup(
    archive_path: Path, data_dir: Path, *, force: bool = False, progress: Progress | None = None
) -> None:
    """Verify ``archive_path`` completely, then swap it into ``data_dir``.

    ``progress(done, total)`` counts archive members as they are unpacked.
    """
    await run_interruptible(partial(_restore, archive_path, data_dir, force, progress))


def _restore(
    archive_path: Path, data_dir: Path, force: bool, progress: Progress | None, stop: StopSignal
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(data_dir, "a restore into"):
        if archive_path in finish_interrupted_restore(data_dir):
            return  # this very restore was killed while swapping; it is complete now
        database = data_dir / DATABASE_MEMBER
        if database.exists() and not force:
            raise ConfigError(f"{database} exists; stop the node and pass --force to replace it")
        with tempfile.TemporaryDirectory(prefix=RESTORE_WORK_PREFIX, dir=data_dir) as work:
            staging = Path(work) / "new"
            staging.mkdir()
            _extract(archive_path, staging, stop, progress)
            _check_staging(staging)
            _fsync(staging / DATABASE_MEMBER)
            # The last moment an interruption is honoured: the swap below always completes.
            stop.check()
            (Path(work) / _JOURNAL).write_text(
                json.dumps({"archive": str(archive_path), "started": now_text()}), encoding="utf-8"
            )
            _swap(Path(work), data_dir)


def _extract(
    archive_path: Path, staging: Path, stop: StopSignal, progress: Progress | None
) -> None:
    total = 0
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            # Members are read in stream order, so the gzip stream is decoded once.
            for done, member in enumerate(archive, start=1):
                stop.check()
                # The "data" filter refuses absolute paths, links out of the tree and devices;
                # directory modes are left alone so a read-only one cannot block its files.
                archive.extract(member, staging, set_attrs=not member.isdir(), filter="data")
                if member.name == MANIFEST_MEMBER:
                    total = _expected_members(staging)
                if progress is not None:
                    progress(done, max(total, done) if total else 0)
    # gzip reports a truncated or corrupted stream as EOFError or zlib.error.
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ConfigError(f"{archive_path} is not a readable Kula backup: {exc}") from None


def _expected_members(staging: Path) -> int:
    try:
        count = json.loads((staging / MANIFEST_MEMBER).read_text(encoding="utf-8"))["members"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # older archives carry no count; progress then has no total
    return count if isinstance(count, int) and count > 0 else 0


def _check_staging(staging: Path) -> None:
    try:
        manifest = json.loads((staging / MANIFEST_MEMBER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError("the archive has no readable manifest; is it a Kula backup?") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise ConfigError(f"unsupported backup format {found!r}")
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


def _swap(work: Path, data_dir: Path) -> None:
    """Move each old piece to ``work/old`` and its restored one in, database last.

    Every step is one rename and re-running from any point gives the same end
    state, which is what lets an interrupted swap be finished later.
    """
    new, old = work / "new", work / "old"
    old.mkdir(exist_ok=True)
    # The old database's WAL and SHM files go with it, but only while the
    # restored database is still waiting: after that they would be the new node's.
    database_pending = (new / DATABASE_MEMBER).exists()
    for name in _RESTORED:
        companion = name.startswith(f"{DATABASE_MEMBER}-")
        replacing = (new / name).exists() or (companion and database_pending)
        if replacing and (data_dir / name).exists() and not (old / name).exists():
            (data_dir / name).replace(old / name)
        if (new / name).exists():
            (new / name).replace(data_dir / name)
    _fsync(data_dir)


def finish_interrupted_restore(data_dir: Path) -> list[Path]:
    """Complete swaps that a killed restore began, and drop its other leftovers.

    Returns the archives whose restore was completed now.
    """
    finished = []
    for work in sorted(data_dir.glob(f"{RESTORE_WORK_PREFIX}*")):
        journal = work / _JOURNAL
        if journal.is_file():
            # The journal is written only after the whole archive was verified.
            _swap(work, data_dir)
            finished.append(Path(json.loads(journal.read_text(encoding="utf-8"))["archive"]))
        shutil.rmtree(work, ignore_errors=True)
    return finished


def _remove_stale(directory: Path, prefix: str) -> None:
    """Work directories of a killed run; the caller holds the directory's lock."""
    for leftover in directory.glob(f"{prefix}*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def _exclusive(directory: Path, what: str) -> Iterator[None]:
    """Hold an advisory lock on ``directory`` so two runs never share work files."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"{what} {directory} is already running") from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _fsync(path: Path) -> None:
    """Flush a file or a directory entry to disk, so a rename survives a power cut."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
