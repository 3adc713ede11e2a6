"""One module per inbound activity type. Each handler takes the context and
the stored activity and returns a short outcome ("applied", "ignored: ...")
that is recorded on the inbox row. A handler raises a NodeError or
ProtocolError to reject the activity (recorded, never retried) and
``RetryLater`` when a peer it needs is unreachable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from node.federation.handlers import (
    create_update,
    exchange,
    flag,
    follow,
    move,
    pools,
    questions,
    responses,
    vouch,
)
from node.services.context import NodeContext

Handler = Callable[[NodeContext, dict[str, Any]], Awaitable[str]]

#: Vouches and relayed questions are recognised first; their handlers pass
#: everything else on (questions -> vouch -> delete for a Delete, vouch ->
#: create_update for a Create, questions -> announce / undo).
#: Pledges to pools (Offer{Pledge}, its Undo, Accept/Reject of it) are
#: recognised before exchanges and follows (pools.pledge_aware).
HANDLERS: dict[str, Handler] = {
    "Follow": follow.handle_follow,
    "Accept": pools.pledge_aware(responses.handle_accept),
    "Reject": pools.pledge_aware(responses.handle_reject),
    "Undo": pools.pledge_aware(questions.handle_undo),
    "Create": vouch.handle_create,
    "Update": create_update.handle_update,
    "Delete": questions.handle_delete,
    "Announce": questions.handle_announce,
    "Offer": pools.pledge_aware(exchange.handle_offer),
    "Move": move.handle_move,
    "Flag": flag.handle_flag,
    **{kind: exchange.handle_lifecycle for kind in exchange.LIFECYCLE_TYPES},
}
