"""Runs the periodic worker steps inside ``kula serve`` (or ``kula worker``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from node.federation.delivery import deliver_due
from node.federation.fanout import fan_out
from node.federation.processing import process_inbox_activity
from node.services.context import NodeContext
from node.services.pool_settlement import settle_due as settle_due_pools
from node.workers import expiry
from node.workers.jobs import JobHandler, run_jobs_once

log = logging.getLogger("kula.workers")


#: Longest an idle queue step waits for a wake-up before looking anyway: work
#: that nobody announces (a retry coming due, a dead worker's lock lapsing)
#: is still found this soon.
MAX_QUEUE_IDLE_SECONDS = 5.0


@dataclass(frozen=True)
class PeriodicStep:
    name: str
    run: Callable[[NodeContext], Awaitable[int]]
    #: Seconds to wait after a cycle that found nothing to do.
    idle_interval: float
    #: Whether queuing work announces it (``Storage.wait_for_work``), so an idle
    #: cycle waits for that rather than sleeping the whole interval.
    woken_by_queue: bool = False


JOB_HANDLERS: dict[str, JobHandler] = {
    "inbox": process_inbox_activity,
    "fanout": fan_out,
}


async def run_jobs(ctx: NodeContext) -> int:
    return await run_jobs_once(ctx, JOB_HANDLERS)


STEPS: tuple[PeriodicStep, ...] = (
    PeriodicStep("jobs", run_jobs, MAX_QUEUE_IDLE_SECONDS, woken_by_queue=True),
    PeriodicStep("deliveries", deliver_due, MAX_QUEUE_IDLE_SECONDS, woken_by_queue=True),
    # Pools close at their deadline (before their listing could lapse).
    PeriodicStep("pool-deadlines", settle_due_pools, idle_interval=30.0),
    PeriodicStep("listing-expiry", expiry.expire_due_listings, idle_interval=60.0),
)


async def run_until_idle(ctx: NodeContext, *, max_cycles: int = 50) -> int:
    """Step every worker until a whole cycle finds nothing to do (tests use this
    to let a node settle without waiting on time). Returns the cycles run."""
    for cycle in range(1, max_cycles + 1):
        done = await run_once(ctx)
        if not any(done.values()):
            return cycle
    raise RuntimeError(f"workers still busy after {max_cycles} cycles")


async def run_once(ctx: NodeContext) -> dict[str, int]:
    """One cycle of every step; returns how much each one did."""
    return {step.name: await step.run(ctx) for step in STEPS}


async def _loop(ctx: NodeContext, step: PeriodicStep) -> None:
    while True:
        try:
            done = await step.run(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker step failed", extra={"step": step.name})
            done = 0
        # Busy steps go again at once; idle ones wait.
        if done:
            await asyncio.sleep(0)
        elif step.woken_by_queue:
            await ctx.storage.wait_for_work(step.idle_interval)
        else:
            await asyncio.sleep(step.idle_interval)


@contextlib.asynccontextmanager
async def run_background_workers(ctx: NodeContext) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(_loop(ctx, step), name=step.name) for step in STEPS]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
