"""What the operator's pages show at a glance: the community's numbers, the
delivery queue row by row, and members found by name."""

from __future__ import annotations

from dataclasses import dataclass

from node.services.context import NodeContext
from node.storage.records import Delivery, Member

#: Delivery states still waiting to be sent.
PENDING_STATES = ("new", "retrying", "sending")
QUEUE_STATES = ("pending", "failed")
MAX_QUERY = 100


@dataclass(frozen=True)
class Overview:
    members: int
    suspended: int
    listings: int
    open_reports: int
    deliveries: dict[str, int]
    partner_communities: int

    @property
    def queued_deliveries(self) -> int:
        return sum(self.deliveries.get(state, 0) for state in PENDING_STATES)

    @property
    def failed_deliveries(self) -> int:
        return self.deliveries.get("failed", 0)


async def overview(ctx: NodeContext) -> Overview:
    async with ctx.storage.read() as session:
        active = await session.count_members()
        everyone = await session.count_members(active_only=False)
        return Overview(
            members=active,
            suspended=everyone - active,
            listings=await session.count_local_listings(),
            open_reports=await session.count_reports("open"),
            deliveries=await session.delivery_counts(),
            partner_communities=len(await session.list_peers()),
        )


async def deliveries(ctx: NodeContext, which: str, limit: int = 200) -> list[Delivery]:
    """Deliveries still to be sent (``pending``) or given up on (``failed``), oldest first."""
    states = PENDING_STATES if which == "pending" else ("failed",)
    async with ctx.storage.read() as session:
        found: list[Delivery] = []
        for state in states:
            found += await session.list_deliveries(state=state, limit=limit)
    return sorted(found, key=lambda delivery: delivery.id)[:limit]


async def find_members(ctx: NodeContext, query: str, limit: int = 100) -> list[Member]:
    async with ctx.storage.read() as session:
        return await session.search_members(query.strip()[:MAX_QUERY], limit=limit)
