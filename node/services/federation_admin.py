"""Operator controls: host blocks and allows, and the delivery queue."""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import NotFound
from node.federation.policy import policy_memory_for
from node.services.context import NodeContext
from node.services.peers import normalise_host
from node.storage.records import HostPolicy
from node.timeutil import now_text


async def set_policy(ctx: NodeContext, host: str, policy: str, note: str = "") -> HostPolicy:
    """Block or allow a host. A block stops queued deliveries to it at once."""
    host = normalise_host(host)
    record = HostPolicy(host=host, policy=policy, note=note, created_at=now_text())
    async with ctx.storage.transaction() as tx:
        await tx.set_host_policy(record)
        if policy == "block":
            await tx.fail_pending_deliveries_to_host(host, "host blocked", now_text())
    policy_memory_for(ctx.storage).forget()
    return record


async def clear_policy(ctx: NodeContext, host: str) -> None:
    async with ctx.storage.transaction() as tx:
        if not await tx.delete_host_policy(normalise_host(host)):
            raise NotFound(f"no policy for {host}")
    policy_memory_for(ctx.storage).forget()


async def list_policies(ctx: NodeContext) -> list[HostPolicy]:
    async with ctx.storage.read() as session:
        return await session.list_host_policies()


async def purge_host(ctx: NodeContext, host: str) -> int:
    """Remove everything this node holds from a host: listings, actors, follows."""
    host = normalise_host(host)
    async with ctx.storage.transaction() as tx:
        for seq in await tx.remote_listing_seqs_of_host(host):
            await tx.unindex_listing(seq)
        removed = await tx.delete_remote_listings_of_host(host)
        for scheme in ("http", "https"):
            await tx.delete_follows_of_host(f"{scheme}://{host}/")
        await tx.delete_remote_actors_of_host(host)
    return removed


@dataclass(frozen=True)
class QueueStatus:
    deliveries: dict[str, int]
    jobs: dict[str, int]
    oldest_pending: str | None
    failing_hosts: list[tuple[str, int]]

    def as_json(self) -> dict[str, object]:
        return {
            "deliveries": self.deliveries,
            "jobs": self.jobs,
            "oldest_pending": self.oldest_pending,
            "failing_hosts": [{"host": h, "count": n} for h, n in self.failing_hosts],
        }


async def queue_status(ctx: NodeContext) -> QueueStatus:
    async with ctx.storage.read() as session:
        return QueueStatus(
            deliveries=await session.delivery_counts(),
            jobs=await session.count_jobs_by_state(),
            oldest_pending=await session.oldest_pending_delivery(),
            failing_hosts=await session.failing_hosts(),
        )


async def retry_failed(ctx: NodeContext, host: str | None = None) -> int:
    async with ctx.storage.transaction() as tx:
        return await tx.requeue_failed_deliveries(now_text(), host)


async def drop_failed(ctx: NodeContext, host: str | None = None) -> int:
    async with ctx.storage.transaction() as tx:
        return await tx.drop_failed_deliveries(host)
