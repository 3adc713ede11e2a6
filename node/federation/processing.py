"""The ``inbox`` job: run the handler for one stored inbound activity and
record its outcome."""

from __future__ import annotations

import logging
from typing import Any

from node.errors import NodeError
from node.federation.fetch import FetchError
from node.federation.handlers import HANDLERS
from node.services.context import NodeContext
from node.workers.jobs import RetryLater
from protocol.errors import ProtocolError

log = logging.getLogger("kula.inbox")


async def process_inbox_activity(ctx: NodeContext, payload: dict[str, Any]) -> None:
    seq = int(payload["seq"])
    async with ctx.storage.read() as session:
        stored = await session.get_inbox_activity(seq)
    if stored is None or stored.outcome is not None:
        return  # already processed: a job re-run after a crash changes nothing
    handler = HANDLERS.get(stored.type)
    outcome: str
    detail: str | None = None
    if handler is None:
        outcome, detail = "unsupported", f"no handler for {stored.type!r}"
    else:
        try:
            outcome = await handler(ctx, stored.document)
        except FetchError as exc:
            if exc.transient:
                raise RetryLater(exc.detail) from exc
            outcome, detail = "rejected", exc.detail
        except (NodeError, ProtocolError) as exc:
            outcome, detail = "rejected", exc.detail
    log.info("processed %s %s: %s", stored.type, stored.iri, outcome)
    async with ctx.storage.transaction() as tx:
        await tx.set_inbox_outcome(seq, outcome, detail)
