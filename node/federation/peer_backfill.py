"""A community that starts following ours receives the listings we already
have, not only those published after: without it a new partner's search
stays empty until members happen to post again.

Each current listing is announced by our community Group to the new follower
alone (FEP-1b12 shape, the Proposal embedded with its author's proof), so
the receiver verifies every listing as it does for live announces."""

from __future__ import annotations

import hashlib

from node.services import search
from node.services.actors import LocalActor
from node.services.context import NodeContext
from node.services.outbox import publish_activity
from node.storage.records import SearchQuery
from node.timeutil import now_text
from protocol import builders

#: The newest listings a new partner receives at once; older ones it finds by search.
BACKFILL_LISTINGS = 200


def _announce_iri(ctx: NodeContext, follow_iri: str, listing_iri: str) -> str:
    # Derived from the Follow, so a Follow delivered twice backfills once.
    digest = hashlib.sha256(f"{follow_iri}\n{listing_iri}".encode()).hexdigest()[:26]
    return ctx.urls.activity(f"backfill-{digest}")


async def backfill_follower(
    ctx: NodeContext, group: LocalActor, follower_iri: str, follow_iri: str
) -> int:
    """Announce our current public listings to ``follower_iri``; returns how many."""
    found = await search.search(
        ctx, SearchQuery(sort="recent", local_only=True, status=None, limit=BACKFILL_LISTINGS)
    )
    published = 0
    now = now_text()
    async with ctx.storage.transaction() as tx:
        for hit in found.hits:
            listing = hit.listing
            iri = _announce_iri(ctx, follow_iri, listing.iri)
            if await tx.get_activity_document_by_iri(iri) is not None:
                continue
            announce = builders.announce(
                id=iri, actor=group.iri, object=listing.iri, to=[follower_iri], published=now
            )
            # Whole, @context included: the author's proof covers the context too.
            announce["object"] = listing.document
            await publish_activity(ctx, tx, group, announce)
            published += 1
    return published
