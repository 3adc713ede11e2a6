"""Listings lapse on their expiry date; each lapse is published as an Update."""

from __future__ import annotations

from node.services import listings
from node.services.context import NodeContext


async def expire_due_listings(ctx: NodeContext) -> int:
    return await listings.expire_due(ctx)
