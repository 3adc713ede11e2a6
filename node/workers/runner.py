"""Runs the periodic worker steps inside ``kula serve`` (or ``kula worker``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from node.services.context import NodeContext
from node.workers import expiry

log = logging.getLogger("kula.workers")


@dataclass(frozen=True)
class PeriodicStep:
    name: str
    run: Callable[[NodeContext], Awaitable[int]]
    #: Seconds to wait after a cycle that found nothing to do.
    idle_interval: float


STEPS: tuple[PeriodicStep, ...] = (
    PeriodicStep("listing-expiry", expiry.expire_due_listings, idle_interval=60.0),
)


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
        await asyncio.sleep(0 if done else step.idle_interval)


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
