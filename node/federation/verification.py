"""Checks shared by inbound handlers and on-demand lookups: proving a listing
is its author's, and whether anyone here follows an actor."""

from __future__ import annotations

from typing import Any

from node.errors import Forbidden
from node.federation.policy import host_allowed, host_of
from node.federation.remote_actors import RemoteActors
from node.services.context import NodeContext
from protocol.normalize import has_type, id_of
from protocol.proofs import verify_authored_object
from protocol.validation import validate


async def verified_proposal(ctx: NodeContext, proposal: dict[str, Any]) -> dict[str, Any]:
    """Check a Proposal's schema and its author's integrity proof.

    The author must live on the Proposal's origin and own the proof's key, so
    neither a relaying Group nor a forged Update can alter what the author said.
    """
    if not has_type(proposal, "Proposal"):
        raise Forbidden("the object is not a Proposal")
    validate(proposal, "proposal")
    object_iri = id_of(proposal)
    author = id_of(proposal.get("attributedTo"))
    if object_iri is None or author is None or host_of(author) != host_of(object_iri):
        raise Forbidden("a listing's author must live on the listing's origin")
    async with ctx.storage.read() as session:
        if not await host_allowed(ctx, session, host_of(author)):
            raise Forbidden(f"this node does not federate with {host_of(author)}")
    author_actor = await RemoteActors(ctx).get(author)
    verify_authored_object(proposal, author_actor.document)
    return proposal


async def followed_locally(ctx: NodeContext, *iris: str) -> bool:
    """Whether a member or the community of this node follows any of ``iris``."""
    async with ctx.storage.read() as session:
        for iri in iris:
            if iri and await session.followed_by_local(iri, ctx.urls.base + "/"):
                return True
    return False
