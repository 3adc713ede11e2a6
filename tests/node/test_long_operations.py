"""Long operator commands: progress on a terminal and in logs, and interruption
without damage (``kula backup``, ``kula restore``; ``migrate-db`` has its own tests)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.backup import (
    BACKUP_WORK_PREFIX,
    DATABASE_MEMBER,
    RESTORE_WORK_PREFIX,
    create_backup,
    finish_interrupted_restore,
    restore_backup,
)
from node.cli import main
from node.progress import (
    Interrupted,
    ProgressMeter,
    ProgressUpdate,
    StopSignal,
    describe,
    log_sink,
    run_interruptible,
    terminal_sink,
)
from node.settings import CONFIG_FILENAME, load_settings

KULA = Path(sys.executable).parent / "kula"
MEDIA_FILES = 6


@pytest.fixture(autouse=True)
def keep_umask() -> Iterator[None]:
    """``main`` tightens the process umask; give the other tests theirs back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "node"
    assert main(["init", "--data", str(path), "--url", "http://127.0.0.1:8080"]) == 0
    for number in range(MEDIA_FILES):
        (path / "media" / f"picture{number}.webp").write_bytes(os.urandom(2048))
    return path


@pytest.fixture
def archive(data_dir: Path, tmp_path: Path) -> Path:
    output = tmp_path / "backups" / "node.tar.gz"
    assert main(["backup", "--data", str(data_dir), "--output", str(output)]) == 0
    return output


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run ``kula`` with standard error on a pseudo-terminal; return its code and output."""
    main_fd, terminal_fd = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(KULA), *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=terminal_fd,
        )
    finally:
        os.close(terminal_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # EIO: every writer to the terminal has gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    return process.wait(), b"".join(chunks).decode()


# --- the meter and its sinks --------------------------------------------------------------


@pytest.mark.spec("Kula operations: progress shows items done, rate and time left")
def test_meter_reports_rate_and_time_left() -> None:
    clock, updates = FakeClock(), []
    meter = ProgressMeter("backup: database", "pages", updates.append, clock=clock)
    clock.now += 2
    meter(100, 500)
    clock.now += 2
    meter(200, 500)
    assert updates[0] == ProgressUpdate("backup: database", 100, 500, "pages", 50.0, 8.0)
    assert updates[1].per_second == 50.0 and updates[1].seconds_left == 6.0
    assert describe(updates[1]) == "backup: database: 200/500 pages (40%), 50 pages/s, 0m06s left"
    meter(7, 0)  # unknown total: no percentage, no time left
    assert describe(updates[2]).endswith("7 pages, 2 pages/s, ? left")


@pytest.mark.spec("Kula operations: progress on a terminal")
def test_terminal_sink_rewrites_one_line_and_ends_it() -> None:
    stream = io.StringIO()
    show = terminal_sink(stream)
    show(ProgressUpdate("restore", 1, 3, "files", 10.0, 0.2))
    show(ProgressUpdate("restore", 3, 3, "files", 10.0, 0.0))
    assert stream.getvalue() == (
        "\r\x1b[Krestore: 1/3 files (33%), 10 files/s, 0m00s left"
        "\r\x1b[Krestore: 3/3 files (100%), 10 files/s, 0m00s left\n"
    )


@pytest.mark.spec("Kula operations: progress in logs when not on a terminal")
def test_log_sink_logs_at_most_once_per_interval_and_always_the_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    show = log_sink(logging.getLogger("test.progress"), interval=10, clock=clock)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for done in range(1, 5):  # four updates within one interval
            show(ProgressUpdate("backup: archive", done, 9, "files", 1.0, 9.0 - done))
        clock.now += 10
        show(ProgressUpdate("backup: archive", 5, 9, "files", 1.0, 4.0))
        show(ProgressUpdate("backup: archive", 9, 9, "files", 1.0, 0.0))
    assert [record.done for record in caplog.records] == [1, 5, 9]  # type: ignore[attr-defined]
    assert caplog.records[1].seconds_left == 4.0  # type: ignore[attr-defined]
    assert caplog.records[1].getMessage() == (
        "backup: archive: 5/9 files (55%), 1 files/s, 0m04s left"
    )


# --- backup and restore from the command line ------------------------------------------------


@pytest.mark.spec("Kula operations: progress in logs when not on a terminal")
def test_backup_and_restore_log_progress_when_not_on_a_terminal(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "b.tar.gz"
    with caplog.at_level(logging.INFO, logger="kula.progress"):
        assert main(["backup", "--data", str(data_dir), "--output", str(output)]) == 0
        assert main(["restore", str(output), "--data", str(tmp_path / "copy")]) == 0
    updates = [record.__dict__ for record in caplog.records if record.name == "kula.progress"]
    tasks = {update["task"]: update for update in updates}  # the last of each task
    members = 3 + 1 + MEDIA_FILES  # manifest, database, configuration, media/ and its files
    assert tasks["backup: archive"]["done"] == tasks["backup: archive"]["total"] == members
    assert tasks["backup: database"]["unit"] == "pages"
    assert tasks["backup: database"]["done"] == tasks["backup: database"]["total"] > 0
    assert tasks["restore"]["done"] == tasks["restore"]["total"] == members
    for update in tasks.values():
        assert update["per_second"] > 0 and update["seconds_left"] == 0


@pytest.mark.spec("Kula operations: progress in logs when not on a terminal")
def test_backup_writes_json_progress_lines_to_a_pipe(data_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "piped.tar.gz"
    done = subprocess.run(
        [str(KULA), "backup", "--data", str(data_dir), "--output", str(output)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    last = [line for line in lines if line["task"] == "backup: archive"][-1]
    assert last["logger"] == "kula.progress" and last["done"] == last["total"]
    assert "files/s" in last["message"] and "left" in last["message"]


@pytest.mark.spec("Kula operations: progress on a terminal")
def test_backup_and_restore_draw_a_progress_line_on_a_terminal(
    data_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "tty.tar.gz"
    code, shown = run_on_a_terminal("backup", "--data", str(data_dir), "--output", str(output))
    assert code == 0, shown
    assert "\r\x1b[Kbackup: database: " in shown and "pages/s" in shown
    assert f"\r\x1b[Kbackup: archive: {4 + MEDIA_FILES}/{4 + MEDIA_FILES} files (100%)" in shown
    code, shown = run_on_a_terminal("restore", str(output), "--data", str(tmp_path / "copy"))
    assert code == 0, shown
    assert f"\r\x1b[Krestore: {4 + MEDIA_FILES}/{4 + MEDIA_FILES} files (100%)" in shown
    assert "{" not in shown  # no JSON log lines on a terminal


# --- interruption -------------------------------------------------------------------------------


@pytest.mark.spec("Kula backup: an interrupted backup leaves no partial archive")
async def test_backup_interrupted_midway_leaves_nothing(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    output = folder / "node.tar.gz"

    def stop_at_third_file(done: int, total: int) -> None:
        if done == 3:
            raise Interrupted("stopped by the test")

    with pytest.raises(Interrupted):
        await create_backup(load_settings(data_dir, {}), output,
                            archive_progress=stop_at_third_file)
    assert list(folder.iterdir()) == []
    # A work directory left by a killed backup is cleared by the next one.
    (folder / f"{BACKUP_WORK_PREFIX}killed").mkdir()
    (folder / f"{BACKUP_WORK_PREFIX}killed" / "archive.tar.gz").write_bytes(b"half")
    await create_backup(load_settings(data_dir, {}), output)
    assert [path.name for path in folder.iterdir()] == [output.name]


@pytest.mark.spec("Kula operations: interruption waits for the work to stop")
async def test_cancelling_waits_for_the_thread_and_stops_it() -> None:
    loop = asyncio.get_running_loop()
    started, release, events = asyncio.Event(), threading.Event(), []

    def work(stop: StopSignal) -> str:
        loop.call_soon_threadsafe(started.set)
        release.wait(timeout=30)
        try:
            stop.check()
            return "finished"
        finally:
            events.append("thread done")

    task = asyncio.create_task(run_interruptible(work))
    await started.wait()
    task.cancel()
    # Runs after the task has seen its cancellation and raised the stop flag.
    loop.call_soon(release.set)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events == ["thread done"]


@pytest.mark.spec("Kula operations: interruption waits for the work to stop")
async def test_work_past_its_last_check_completes_and_is_reported() -> None:
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()

    def work(stop: StopSignal) -> str:
        stop.check()
        loop.call_soon_threadsafe(started.set)
        release.wait(timeout=30)
        return "swapped"  # like a restore's swap: never abandoned halfway

    task = asyncio.create_task(run_interruptible(work))
    await started.wait()
    task.cancel()
    loop.call_soon(release.set)
    assert await task == "swapped"


def _tables(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    finally:
        connection.close()


@pytest.mark.spec("Kula CLI: restore")
async def test_restore_interrupted_while_unpacking_changes_nothing(
    archive: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / DATABASE_MEMBER).write_bytes(b"the old database")
    (target / CONFIG_FILENAME).write_text("url = 'https://old.example'\n")

    def stop_at_fifth_member(done: int, total: int) -> None:
        if done == 5:
            raise Interrupted("stopped by the test")

    with pytest.raises(Interrupted):
        await restore_backup(archive, target, force=True, progress=stop_at_fifth_member)
    assert (target / DATABASE_MEMBER).read_bytes() == b"the old database"
    assert (target / CONFIG_FILENAME).read_text() == "url = 'https://old.example'\n"
    assert {path.name for path in target.iterdir()} == {CONFIG_FILENAME, DATABASE_MEMBER}


@pytest.mark.spec("Kula CLI: restore")
def test_restore_killed_while_swapping_is_finished_by_the_next_run(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / DATABASE_MEMBER).write_bytes(b"the old database")
    (target / f"{DATABASE_MEMBER}-wal").write_bytes(b"the old database's log")
    (target / CONFIG_FILENAME).write_text("url = 'https://old.example'\n")
    # The state a restore killed after swapping the configuration, before the database:
    work = target / f"{RESTORE_WORK_PREFIX}killed"
    (work / "new").mkdir(parents=True)
    (work / "old").mkdir()
    with tarfile.open(archive) as unpacked:
        unpacked.extractall(work / "new", filter="data")
    (target / CONFIG_FILENAME).replace(work / "old" / CONFIG_FILENAME)
    (work / "new" / CONFIG_FILENAME).replace(target / CONFIG_FILENAME)
    (work / "swap.json").write_text(json.dumps({"archive": str(archive), "started": "x"}))

    # Running the same restore again (no --force: it is this restore) finishes it.
    assert main(["restore", str(archive), "--data", str(target)]) == 0, capsys.readouterr().err
    assert "members" in _tables(target / DATABASE_MEMBER)
    assert not (target / f"{DATABASE_MEMBER}-wal").exists()  # the old log went with its database
    assert load_settings(target, {}).url == "http://127.0.0.1:8080"
    assert not list(target.glob(f"{RESTORE_WORK_PREFIX}*"))
    assert sorted(path.name for path in (target / "media").iterdir()) == [
        f"picture{number}.webp" for number in range(MEDIA_FILES)]


@pytest.mark.spec("Kula CLI: restore")
def test_finishing_twice_never_moves_the_restored_database_away(
    archive: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    work = target / f"{RESTORE_WORK_PREFIX}killed"
    (work / "new").mkdir(parents=True)
    with tarfile.open(archive) as unpacked:
        unpacked.extractall(work / "new", filter="data")
    (work / "swap.json").write_text(json.dumps({"archive": str(archive), "started": "x"}))
    shutil.copytree(work, tmp_path / "journal-copy")
    assert finish_interrupted_restore(target) == [archive]
    # The node ran (its own write-ahead log), then a stale journal shows up again.
    (target / f"{DATABASE_MEMBER}-wal").write_bytes(b"the new node's log")
    shutil.copytree(tmp_path / "journal-copy", work)
    shutil.rmtree(work / "new")
    (work / "new").mkdir()
    finish_interrupted_restore(target)
    assert (target / f"{DATABASE_MEMBER}-wal").read_bytes() == b"the new node's log"
    assert "members" in _tables(target / DATABASE_MEMBER)
