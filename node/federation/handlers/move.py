"""Move: an account on another node moved; see node.services.moves."""

from __future__ import annotations

from typing import Any

from node.services import moves
from node.services.context import NodeContext


async def handle_move(ctx: NodeContext, activity: dict[str, Any]) -> str:
    return await moves.receive_move(ctx, activity)
