"""``kula serve --no-workers`` beside a separate ``kula worker`` process on the
same SQLite data directory: the web process queues, the worker delivers, and a
worker killed mid-burst is replaced by another that finishes the burst."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.federation.harness import settle
from tests.federation.procs import (
    check_received_once,
    check_sent_once,
    db_rows,
    follow,
    in_flight,
    lapse_claims,
    listing,
    queue_drained,
    search_titles,
    sender_and_gated_receiver,
    wait_until,
)

BURST = 30


@pytest.mark.spec("Kula workers: a separate worker process")
@pytest.mark.timeout(60)
async def test_worker_process_delivers_and_a_replacement_finishes_a_killed_burst(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    a, b = sender_and_gated_receiver(tmp_path, cleanup)
    await a.init()
    alice = await a.member("alice")
    await a.serve(workers=False)
    first_worker = await a.start_worker()
    await b.start()
    bob = await b.member("bob")
    # The Follow is answered by the worker: the web process only stores it.
    await follow(b.api, bob, f"alice@{a.host}", lambda: settle(b))

    status, body = await a.api("POST", "/api/v1/listings", alice, json=listing(0))
    assert status == 201, body
    await wait_until(lambda: queue_drained(a.database), within=20,
                     what="the worker to deliver the first listing")
    await settle(b)
    assert await search_titles(b.api) == [listing(0)["title"]]

    # A burst; the worker dies with deliveries in flight, another takes over.
    b.gate.arm(pass_first=BURST // 4)
    for number in range(1, BURST + 1):
        status, body = await a.api("POST", "/api/v1/listings", alice, json=listing(number))
        assert status == 201, body
    await b.gate.wait_holding(within=20)
    await first_worker.kill()
    b.gate.open()
    # The web process holds no claims, so every claimed row was the dead worker's.
    claimed = await lapse_claims(a.database)
    unanswered = await in_flight(a.database, b.data_dir / "kula.sqlite3")
    assert len(unanswered) >= b.gate.held >= 1
    assert claimed["deliveries"] >= b.gate.held

    await a.start_worker()
    await wait_until(lambda: queue_drained(a.database), within=30,
                     what="the second worker to finish the burst")
    await settle(b)
    creates, deliveries = await check_sent_once(a.database, a.actor("alice"))
    await check_received_once(b.data_dir / "kula.sqlite3", b.api, creates,
                              [listing(number)["title"] for number in range(BURST + 1)])
    resent = {row["activity_iri"]: row for row in deliveries}
    assert {(resent[iri]["last_status"], resent[iri]["attempts"]) for iri in unanswered} == {
        (409, 2)}
    # Both processes wrote to one database; it is whole.
    assert [row[0] for row in await db_rows(a.database, "PRAGMA integrity_check")] == ["ok"]
