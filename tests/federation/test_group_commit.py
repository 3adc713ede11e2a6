"""Group commit for the inbox: activities arriving together share one
transaction, each caller learns its own outcome only once it is durable, and
one failing item never costs the others theirs. Also the batch statements
it uses, on both backends, and the in-memory key cache of the inbox."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pytest

from node.errors import StorageUnavailable
from node.federation.group_commit import GroupCommit
from node.federation.key_memory import KeyMemory
from node.services.context import NodeContext
from node.storage.base import Storage
from node.storage.postgres import PostgresStorage
from node.storage.records import ARRIVAL_REFUSED, ArrivingActivity, HostPolicy
from node.storage.sqlite import SqliteStorage

NOW = "2026-01-01T00:00:00Z"
REMOTE = "https://remote.example"


def arrival(number: int, host: str = "remote.example", **outcome: str) -> ArrivingActivity:
    return ArrivingActivity(
        iri=f"https://{host}/activities/{number}", actor_iri=f"https://{host}/users/a",
        host=host, type="Create", document_text=f'{{"n":{number}}}', received_at=NOW, **outcome,
    )


def refuse_none(hosts: Collection[str], policies: Mapping[str, HostPolicy]) -> set[str]:
    return set()


async def count_inbox(storage: Storage) -> int:
    async with storage.read() as session:
        return await session.count_inbox_activities()


async def test_items_arriving_together_share_a_transaction(ctx: NodeContext) -> None:
    batches: list[int] = []

    async def write(items: list[int]) -> list[int | None]:
        batches.append(len(items))
        async with ctx.storage.transaction() as session:
            return await session.store_arrivals([arrival(n) for n in items], refuse_none, "inbox")

    committer: GroupCommit[int, int | None] = GroupCommit(write)
    before = await count_inbox(ctx.storage)
    results = await asyncio.gather(*(committer.submit(n) for n in range(30)))
    assert all(isinstance(seq, int) for seq in results) and len(set(results)) == 30
    assert sum(batches) == 30 and len(batches) < 30  # batched, nothing lost
    assert await count_inbox(ctx.storage) == before + 30
    # A replay, alone or with a fresh activity, is told apart from it.
    again = await asyncio.gather(committer.submit(3), committer.submit(99))
    assert again[0] is None and isinstance(again[1], int)


async def test_a_failing_item_costs_the_others_nothing(ctx: NodeContext) -> None:
    async def write(items: list[int]) -> list[int | None]:
        async with ctx.storage.transaction() as session:
            seqs = await session.store_arrivals([arrival(n) for n in items], refuse_none, "inbox")
            if 13 in items:
                raise ValueError("item 13 is broken")  # after writing: rolled back
        return seqs

    committer: GroupCommit[int, int | None] = GroupCommit(write)
    before = await count_inbox(ctx.storage)
    outcomes = await asyncio.gather(
        *(committer.submit(n) for n in range(10, 20)), return_exceptions=True
    )
    assert isinstance(outcomes[3], ValueError)
    assert all(isinstance(outcome, int) for i, outcome in enumerate(outcomes) if i != 3)
    assert await count_inbox(ctx.storage) == before + 9


async def test_a_writer_returning_too_few_results_fails_its_callers() -> None:
    async def write(items: list[int]) -> list[int]:
        return items[1:]

    committer: GroupCommit[int, int] = GroupCommit(write)
    outcomes = await asyncio.gather(*(committer.submit(n) for n in range(3)),
                                    return_exceptions=True)
    # A bug in the writer reaches every caller; none is told a wrong result.
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)


async def test_an_unusable_storage_fails_every_caller(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "kula.sqlite3")  # never opened

    async def write(items: list[int]) -> list[int]:
        async with storage.transaction():
            return items

    committer: GroupCommit[int, int] = GroupCommit(write)
    outcomes = await asyncio.gather(*(committer.submit(n) for n in range(3)),
                                    return_exceptions=True)
    assert all(isinstance(outcome, AssertionError | StorageUnavailable) for outcome in outcomes)


async def _batch_statements(storage: Storage) -> None:
    seqs: list[int | None]
    async with storage.transaction() as session:
        first = await session.store_arrivals([arrival(1), arrival(2), arrival(1)],
                                             refuse_none, "inbox")
        assert first[0] is not None and first[1] is not None and first[2] is None
        replay = await session.store_arrivals([arrival(2), arrival(3)], refuse_none, "inbox")
        assert replay[0] is None and replay[1] is not None
        seqs = [first[0], first[1], replay[1]]
        assert await session.store_arrivals([], refuse_none, "inbox") == []
        assert await session.enqueue_jobs("other", [{"n": 1}, {"n": 2}], NOW) == 2
        assert await session.enqueue_jobs("other", [], NOW) == 0
    async with storage.read() as session:
        assert await session.count_inbox_activities() == 3
        # One inbox job per stored arrival, and the two queued directly.
        assert (await session.count_jobs_by_state()).get("new") == 5
    # Activities ignored while a Follow was pending are reopened when it is accepted.
    async with storage.transaction() as session:
        outcomes = ("ignored: nobody here follows the author", "applied", "ignored: nobody_here")
        for seq, outcome in zip(seqs, outcomes, strict=True):
            assert seq is not None
            await session.set_inbox_outcome(seq, outcome, None)
        assert await session.reopen_inbox_activities(
            f"{REMOTE}/users/a", NOW, "ignored: nobody here follows"
        ) == [seqs[0]]
        assert await session.reopen_inbox_activities(
            f"{REMOTE}/users/a", "2026-01-02T00:00:00Z", "applied"
        ) == []
        assert seqs[0] is not None
        reopened = await session.get_inbox_activity(seqs[0])
        assert reopened is not None and reopened.outcome is None


async def test_batch_statements_on_sqlite(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "kula.sqlite3")
    await storage.open()
    try:
        await _batch_statements(storage)
    finally:
        await storage.close()


async def test_batch_statements_on_postgresql(postgres_url: str) -> None:
    storage = PostgresStorage(postgres_url)
    await storage.open()
    try:
        await _batch_statements(storage)
    finally:
        await storage.close()


def refuse_blocked_and_listed(
    hosts: Collection[str], policies: Mapping[str, HostPolicy]
) -> set[str]:
    return {host for host in hosts if host == "refused.example"
            or (host in policies and policies[host].policy == "block")}


async def _store_arrivals(storage: Storage) -> None:
    async with storage.transaction() as session:
        await session.set_host_policy(HostPolicy("blocked.example", "block", "", NOW))
    before = await count_inbox(storage)
    batch = [
        arrival(1),
        arrival(1),  # the same id twice in one batch: a replay
        arrival(2, "refused.example"),
        arrival(3, outcome="unsupported", outcome_detail="no handler for 'Like'"),
        arrival(4, "blocked.example"),  # refused by the policy stored in the database
    ]
    results = await storage.store_arrivals(batch, refuse_blocked_and_listed, "inbox")
    stored, replay, refused, unsupported, blocked = results
    assert isinstance(stored, int) and isinstance(unsupported, int)
    assert replay is None and refused == blocked == ARRIVAL_REFUSED
    async with storage.read() as session:
        assert await session.count_inbox_activities() == before + 2
        assert (await session.count_jobs_by_state()).get("new") == 1  # none for the unsupported
        kept = await session.get_inbox_activity(unsupported)
        assert kept is not None and kept.outcome == "unsupported"
        assert kept.document == {"n": 3}  # the received text, stored verbatim
    # A replay in a later batch; an empty batch.
    again, fresh = await storage.store_arrivals([arrival(1), arrival(5)],
                                                refuse_blocked_and_listed, "inbox")
    assert again is None and isinstance(fresh, int) and fresh > unsupported
    assert await storage.store_arrivals([], refuse_blocked_and_listed, "inbox") == []

    # A failure inside the transaction stores nothing, and the next batch goes through.
    def broken_screen(hosts: Collection[str], policies: Mapping[str, HostPolicy]) -> set[str]:
        raise ValueError("the screen broke")

    with pytest.raises(ValueError):
        await storage.store_arrivals([arrival(6)], broken_screen, "inbox")
    # So does one after the activities' insert: a job without a kind breaks NOT NULL.
    with pytest.raises(Exception, match=r"(?i)null"):
        await storage.store_arrivals([arrival(7)], refuse_blocked_and_listed, None)  # type: ignore[arg-type]
    assert await count_inbox(storage) == before + 3
    # Arrivals and other writes of the same process take turns, never "database is locked".
    other_write = storage.transaction()

    async def set_policy() -> None:
        async with other_write as session:
            await session.set_host_policy(HostPolicy("late.example", "block", "", NOW))

    concurrent = await asyncio.gather(
        *(storage.store_arrivals([arrival(n)], refuse_blocked_and_listed, "inbox")
          for n in range(10, 20)),
        set_policy(),
    )
    assert all(isinstance(result[0], int) for result in concurrent[:-1])
    assert await count_inbox(storage) == before + 13


async def test_store_arrivals_on_sqlite(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "kula.sqlite3")
    await storage.open()
    try:
        await _store_arrivals(storage)
    finally:
        await storage.close()


# Waiting on the loop would stall it for the whole busy timeout (10 s), past this bound.
@pytest.mark.timeout(5)
async def test_arrivals_wait_for_another_process_lock_off_the_loop(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "kula.sqlite3")
    await storage.open()
    other = sqlite3.connect(tmp_path / "kula.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # as a `kula worker` writing at that moment
        storing = asyncio.ensure_future(
            storage.store_arrivals([arrival(1)], refuse_blocked_and_listed, "inbox")
        )
        for _ in range(20):  # the loop keeps turning while the batch waits for the lock
            await asyncio.sleep(0)
        assert not storing.done()
        # Released by the loop itself: a batch waiting on the loop would never see it.
        asyncio.get_running_loop().call_soon(other.execute, "COMMIT")
        (seq,) = await storing
        assert isinstance(seq, int) and await count_inbox(storage) == 1
    finally:
        other.close()
        await storage.close()


async def test_store_arrivals_on_postgresql(postgres_url: str) -> None:
    storage = PostgresStorage(postgres_url)
    await storage.open()
    try:
        await _store_arrivals(storage)
    finally:
        await storage.close()


def test_key_memory_forgets_expired_and_refetched_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    from node.federation import key_memory

    clock = [1_000_000.0]
    monkeypatch.setattr(key_memory.time, "time", lambda: clock[0])
    memory = KeyMemory()
    actor: Any = type("Actor", (), {"iri": f"{REMOTE}/users/a"})()
    far = datetime.fromtimestamp(clock[0], UTC) + timedelta(days=1)
    memory.remember(f"{REMOTE}/users/a#main-key", actor, b"key", far)
    assert memory.get(f"{REMOTE}/users/a#main-key") is not None
    clock[0] += key_memory.TTL
    assert memory.get(f"{REMOTE}/users/a#main-key") is None  # a minute at most
    memory.remember(f"{REMOTE}/users/a#main-key", actor, b"key", far)
    soon = datetime.fromtimestamp(clock[0] + 5, UTC)
    memory.remember(f"{REMOTE}/users/a#other-key", actor, b"key", soon)
    clock[0] += 6
    assert memory.get(f"{REMOTE}/users/a#other-key") is None  # never past the actor's expiry
    memory.forget_actor(actor.iri)
    assert memory.get(f"{REMOTE}/users/a#main-key") is None
