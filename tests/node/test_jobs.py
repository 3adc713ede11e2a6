"""The job engine: a storage outage is the node's, so it does not use up a job's attempts."""

from __future__ import annotations

from typing import Any

from node.errors import StorageUnavailable
from node.services.context import NodeContext
from node.timeutil import now_text
from node.workers.jobs import run_jobs_once


async def _job_row(ctx: NodeContext, job_id: int) -> dict[str, Any]:
    async with ctx.storage.read() as session:
        row = await session._one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    assert row is not None
    return dict(row)


async def test_a_storage_outage_retries_without_spending_an_attempt(ctx: NodeContext) -> None:
    async with ctx.storage.transaction() as tx:
        job_id = await tx.enqueue_job("probe", {}, now_text())

    async def disk_full(ctx: NodeContext, payload: dict[str, Any]) -> None:
        raise StorageUnavailable("the database's disk is full (SQLITE_FULL); try again later")

    assert await run_jobs_once(ctx, {"probe": disk_full}) == 1
    row = await _job_row(ctx, job_id)
    assert row["state"] == "retrying"
    assert row["attempts"] == 0
    assert "disk is full" in row["last_error"]


async def test_a_failing_handler_spends_an_attempt(ctx: NodeContext) -> None:
    async with ctx.storage.transaction() as tx:
        job_id = await tx.enqueue_job("probe", {}, now_text())

    async def broken(ctx: NodeContext, payload: dict[str, Any]) -> None:
        raise ValueError("a bug")

    await run_jobs_once(ctx, {"probe": broken})
    row = await _job_row(ctx, job_id)
    assert (row["state"], row["attempts"]) == ("retrying", 1)
