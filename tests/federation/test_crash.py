"""SIGKILL at the worst moment: a sender mid-burst, a receiver mid-burst, a
backup and a migration. Real ``kula`` processes, real HTTP on loopback; what
survives is read from the databases they leave behind."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from node.backup import restore_backup
from node.federation.delivery import DeliveryWorker, set_worker
from node.storage.sqlite import migration_files
from node.timeutil import utc_now
from node.workers.runner import run_jobs
from tests.federation.harness import Node, settle
from tests.federation.procs import (
    KulaProcess,
    ServedNode,
    check_received_once,
    check_sent_once,
    db_rows,
    follow,
    in_flight,
    integrity,
    lapse_claims,
    listing,
    queue_drained,
    run_kula,
    sender_and_gated_receiver,
    wait_until,
)

BURST = 40


@pytest.mark.spec("Kula delivery: crash recovery (sender)")
@pytest.mark.timeout(60)
async def test_sender_killed_mid_burst_delivers_every_activity_once(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    a, b = sender_and_gated_receiver(tmp_path, cleanup)
    await a.init()
    alice = await a.member("alice")
    await a.serve()
    await b.start()
    bob = await b.member("bob")
    await follow(b.api, bob, f"alice@{a.host}", lambda: settle(b))

    # The receiver answers the first deliveries, then stores the next ones
    # without answering: the sender dies with them in flight.
    b.gate.arm(pass_first=BURST // 4)
    for number in range(BURST):
        status, body = await a.api("POST", "/api/v1/listings", alice, json=listing(number))
        assert status == 201, body
    await b.gate.wait_holding(within=20)
    await a.kill()
    b.gate.open()
    claimed = await lapse_claims(a.database)
    # Stored by the receiver, never recorded by the sender: the held answers and
    # any request the receiver was still handling when the sender died.
    unanswered = await in_flight(a.database, b.data_dir / "kula.sqlite3")
    assert len(unanswered) >= b.gate.held >= 1
    assert claimed["deliveries"] >= b.gate.held

    await a.serve()
    await wait_until(lambda: queue_drained(a.database), within=30,
                     what="the restarted sender to empty its queue")
    await settle(b)
    creates, deliveries = await check_sent_once(a.database, a.actor("alice"))
    await check_received_once(b.data_dir / "kula.sqlite3", b.api, creates,
                              [listing(n)["title"] for n in range(BURST)])
    # Those were sent again after the restart and met a 409: delivered, not doubled.
    resent = {row["activity_iri"]: row for row in deliveries}
    assert {(resent[iri]["last_status"], resent[iri]["attempts"]) for iri in unanswered} == {
        (409, 2)}


async def processed_creates(database: Path, *, at_least: int) -> bool:
    rows = await db_rows(database, "SELECT count(*) FROM inbox_activities"
                         " WHERE type = 'Create' AND outcome IS NOT NULL")
    return rows[0][0] >= at_least


class SteppedClock:
    """The sender's delivery clock: real time plus an offset the test moves
    forward, instead of waiting out backoffs."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utc_now() + self.offset


class KillReceiverAfter:
    """A client trace hook that SIGKILLs the receiver as soon as it has
    answered ``answers`` deliveries with 202, others still in flight."""

    def __init__(self, receiver: ServedNode, answers: int) -> None:
        self.receiver, self.answers, self.answered = receiver, answers, 0
        self.config = aiohttp.TraceConfig()
        self.config.on_request_end.append(self._on_request_end)

    async def _on_request_end(
        self, session: aiohttp.ClientSession, context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status != 202:
            return
        self.answered += 1
        if self.answered == self.answers:
            await self.receiver.kill()


@pytest.mark.spec("Kula inbox: crash recovery (receiver)")
@pytest.mark.timeout(60)
async def test_receiver_killed_mid_burst_processes_every_accepted_activity_once(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    a = Node("a", tmp_path / "a")
    b = ServedNode("b", tmp_path)
    cleanup.push_async_callback(b.close)
    cleanup.push_async_callback(a.stop)
    await b.init()
    bob = await b.member("bob")
    await a.start()
    await b.serve()
    clock = SteppedClock()
    worker = DeliveryWorker(clock=clock)
    set_worker(a.ctx, worker)
    alice = await a.member("alice")
    await follow(b.api, bob, f"alice@{a.host}", lambda: settle(a))
    titles = [listing(number)["title"] for number in range(BURST)]
    for number in range(BURST):
        status, body = await a.api("POST", "/api/v1/listings", alice, json=listing(number))
        assert status == 201, body
    while await run_jobs(a.ctx):
        pass  # fan-out only: every delivery row is queued, none sent

    # Half the burst is answered; once the receiver's worker is busy with it,
    # the rest is sent and the receiver dies at its first answer.
    assert await worker.run_once(a.ctx, a.ctx.require_http().session, limit=BURST // 2)
    await wait_until(lambda: processed_creates(b.database, at_least=1), within=20,
                     what="the receiver to start processing")
    killer = KillReceiverAfter(b, answers=1)
    async with aiohttp.ClientSession(trace_configs=[killer.config]) as session:
        await worker.run_once(a.ctx, session)
    sent = await db_rows(a.data_dir / "kula.sqlite3", "SELECT d.state FROM deliveries AS d"
                         " JOIN activities AS x ON x.iri = d.activity_iri WHERE x.type = 'Create'")
    states = [row["state"] for row in sent]
    assert states.count("delivered") > BURST // 2 and "retrying" in states, states

    await lapse_claims(b.database)
    await b.serve()

    async def sender_drained() -> bool:
        # Past every backoff, the breaker's cool-down and its probe's wait.
        clock.offset += timedelta(hours=1)
        await settle(a)
        return await queue_drained(a.data_dir / "kula.sqlite3")

    await wait_until(sender_drained, within=30, what="the sender to deliver the rest")

    await wait_until(lambda: processed_creates(b.database, at_least=BURST), within=30,
                     what="the receiver to process the burst")
    creates, _ = await check_sent_once(a.data_dir / "kula.sqlite3", a.actor("alice"))
    await check_received_once(b.database, b.api, creates, titles)
    # One inbox job per stored activity, each run to completion.
    stored = await db_rows(b.database, "SELECT count(*) FROM inbox_activities")
    jobs = await db_rows(b.database, "SELECT state, count(*) AS n FROM jobs"
                         " WHERE kind = 'inbox' GROUP BY state")
    assert {row["state"]: row["n"] for row in jobs} == {"done": stored[0][0]}


def _fill_media(media: Path, megabytes: int) -> None:
    # Incompressible, so archiving takes long enough to be killed half-way.
    for number in range(megabytes):
        (media / f"blob{number}.bin").write_bytes(random.Random(number).randbytes(1 << 20))


@pytest.mark.spec("Kula backup: an interrupted backup leaves no partial archive")
@pytest.mark.timeout(60)
async def test_backup_killed_midway_leaves_no_partial_archive(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    node = ServedNode("a", tmp_path)
    await node.init()
    await node.member("alice")
    await asyncio.to_thread(_fill_media, node.data_dir / "media", 12)

    # Kill points: once the backup has put anything beside its output, and once
    # it has begun writing an archive, under whatever name.
    def work_begun(folder: Path) -> Callable[[], bool]:
        return lambda: any(folder.iterdir())

    def archive_begun(folder: Path) -> Callable[[], bool]:
        # os.walk, unlike rglob, skips a directory removed while it is read.
        return lambda: any(name.endswith(".gz") for _, _, names in os.walk(folder)
                           for name in names)

    outputs = []
    for trial, stage in enumerate((work_begun, archive_begun)):
        folder = tmp_path / f"backups{trial}"
        folder.mkdir()
        output = folder / "a.tar.gz"
        backup = KulaProcess(("backup", "--data", str(node.data_dir), "--output", str(output)),
                             tmp_path / f"backup{trial}.log")
        cleanup.push_async_callback(backup.kill)
        await backup.spawn()
        await wait_until(stage(folder), within=30, interval=0.01, what=stage.__name__)
        await backup.kill()
        assert await integrity(node.database) == "ok"
        if output.exists():
            # Killed after the rename: then the archive must be whole.
            await restore_backup(output, tmp_path / f"restored{trial}")
        outputs.append(output)

    # A later backup to the same place completes, whatever the killed one left.
    await run_kula("backup", "--data", str(node.data_dir), "--output", str(outputs[1]))
    await restore_backup(outputs[1], tmp_path / "restored")
    assert await integrity(tmp_path / "restored" / "kula.sqlite3") == "ok"
    assert len(list((tmp_path / "restored" / "media").iterdir())) == 12


def _schemas_by_version() -> dict[int, set[str]]:
    """The schema objects after each migration, applied in memory one by one."""
    connection = sqlite3.connect(":memory:")
    try:
        schemas = {0: _schema(connection)}
        for version, _, sql in migration_files("sqlite"):
            connection.executescript(sql)
            schemas[version] = _schema(connection)
    finally:
        connection.close()
    return schemas


def _schema(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT type, name FROM sqlite_master").fetchall()
    return {f"{kind} {name}" for kind, name in rows
            if name != "schema_migrations" and not name.startswith("sqlite_")}


async def _schema_state(database: Path) -> tuple[int, set[str]]:
    """The recorded schema version and the objects actually present."""
    tables = await db_rows(database, "SELECT name FROM sqlite_master"
                           " WHERE name = 'schema_migrations'")
    version = 0
    if tables:
        version = (await db_rows(
            database, "SELECT coalesce(max(version), 0) FROM schema_migrations"))[0][0]
    rows = await db_rows(database, "SELECT type, name FROM sqlite_master")
    return version, {f"{row[0]} {row[1]}" for row in rows
                     if row[1] != "schema_migrations" and not row[1].startswith("sqlite_")}


@pytest.mark.spec("Kula storage: a migration is all or nothing")
@pytest.mark.timeout(60)
async def test_migrate_killed_midway_leaves_a_consistent_schema(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    node = ServedNode("a", tmp_path)
    await node.init()
    schemas = await asyncio.to_thread(_schemas_by_version)
    latest = max(schemas)

    def database_created() -> bool:
        return node.database.exists()

    async def migrations_begun() -> bool:
        return database_created() and bool(await db_rows(
            node.database, "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"))

    async def first_applied() -> bool:
        return await migrations_begun() and (await _schema_state(node.database))[0] >= 1

    for trial, stage in enumerate((database_created, migrations_begun, first_applied)):
        # A data directory whose database is still to be created: every migration pending.
        for leftover in node.data_dir.glob("kula.sqlite3*"):
            leftover.unlink()
        migrate = KulaProcess(("migrate", "--data", str(node.data_dir)),
                              tmp_path / f"migrate{trial}.log")
        cleanup.push_async_callback(migrate.kill)
        await migrate.spawn()
        await wait_until(stage, within=30, interval=0.002, what=stage.__name__)
        await migrate.kill()
        assert await integrity(node.database) == "ok"
        version, present = await _schema_state(node.database)
        # Each migration is there whole, with its record, or not at all.
        assert present == schemas[version], (trial, version)
        out = await run_kula("migrate", "--data", str(node.data_dir))
        assert out.strip() == f"database schema is at version {latest}"
        assert await _schema_state(node.database) == (latest, schemas[latest])
