"""One module per inbound activity type. Each handler takes the context and
the stored activity and returns a short outcome ("applied", "ignored: ...")
that is recorded on the inbox row. A handler raises a NodeError or
ProtocolError to reject the activity (recorded, never retried) and
``RetryLater`` when a peer it needs is unreachable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from node.federation.handlers import (
    announce,
    create_update,
    delete,
    exchange,
    follow,
    move,
    responses,
    undo,
)
from node.services.context import NodeContext

Handler = Callable[[NodeContext, dict[str, Any]], Awaitable[str]]

HANDLERS: dict[str, Handler] = {
    "Follow": follow.handle_follow,
    "Accept": responses.handle_accept,
    "Reject": responses.handle_reject,
    "Undo": undo.handle_undo,
    "Create": create_update.handle_create,
    "Update": create_update.handle_update,
    "Delete": delete.handle_delete,
    "Announce": announce.handle_announce,
    "Offer": exchange.handle_offer,
    "Move": move.handle_move,
    **{kind: exchange.handle_lifecycle for kind in exchange.LIFECYCLE_TYPES},
}
