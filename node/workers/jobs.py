"""A small persisted job engine: claim due jobs, run their handler, record
the result. A handler that raises :class:`RetryLater` is tried again with
backoff; any other exception is a bug, logged, and retried the same way until
the job's attempts run out, when it ends ``failed`` for an operator to see."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from node.errors import StorageUnavailable
from node.services.context import NodeContext
from node.timeutil import to_text, utc_now

log = logging.getLogger("kula.jobs")

JobHandler = Callable[[NodeContext, dict[str, Any]], Awaitable[None]]
MAX_ATTEMPTS = 10
LOCK_SECONDS = 120


class RetryLater(Exception):
    """The job could not finish for a passing reason (a peer is down, say)."""


def job_backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    base = min(3600.0, 10.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + (rng or random).random() / 2))


async def run_jobs_once(
    ctx: NodeContext, handlers: Mapping[str, JobHandler], *, limit: int = 50
) -> int:
    now = utc_now()
    async with ctx.storage.transaction() as tx:
        jobs = await tx.claim_jobs(
            to_text(now), to_text(now + timedelta(seconds=LOCK_SECONDS)), limit
        )
    for job in jobs:
        handler = handlers.get(job.kind)
        error: str | None = None
        storage_down = False
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            await handler(ctx, job.payload)
        except RetryLater as exc:
            error = str(exc) or "retry later"
        except StorageUnavailable as exc:
            # A full disk or a read-only database is the node's outage, not the
            # job's fault: wait it out without spending the job's attempts.
            error, storage_down = exc.detail, True
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            error = f"{type(exc).__name__}: {exc}"
        finished = to_text(utc_now())
        async with ctx.storage.transaction() as tx:
            if error is None:
                await tx.finish_job(job.id, finished)
            elif storage_down:
                retry_at = to_text(utc_now() + timedelta(seconds=StorageUnavailable.retry_after))
                await tx.retry_job(job.id, retry_at, error, finished, refund=True)
            elif job.attempts >= MAX_ATTEMPTS:
                await tx.fail_job(job.id, error, finished)
            else:
                retry_at = to_text(utc_now() + job_backoff(job.attempts))
                await tx.retry_job(job.id, retry_at, error, finished)
    return len(jobs)
