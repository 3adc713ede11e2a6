"""Publishing a member's signed credentials (exchange attestations, vouches):
the same two moves for each, a ``Create`` when issued and a ``Delete`` with a
Tombstone when taken back, both addressed to the subject and the issuer's
followers (SPEC §11)."""

from __future__ import annotations

from typing import Any

from node.services.actors import LocalActor
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from protocol import builders


async def publish_issued(
    ctx: NodeContext, session: Session, actor: LocalActor, credential: dict[str, Any],
    subject: str, now: str,
) -> None:
    _, iri = new_activity_iri(ctx)
    activity = builders.create(
        id=iri, actor=actor.iri, object=credential, to=[subject],
        cc=[f"{actor.iri}/followers"], published=now,
    )
    await publish_activity(ctx, session, actor, activity)


async def publish_withdrawn(
    ctx: NodeContext, session: Session, actor: LocalActor, credential_iri: str,
    subject: str, now: str,
) -> None:
    _, iri = new_activity_iri(ctx)
    activity = builders.delete(
        id=iri, actor=actor.iri,
        object=builders.tombstone(
            id=credential_iri, former_type="VerifiableCredential", deleted=now
        ),
        to=[subject], cc=[f"{actor.iri}/followers"], published=now,
    )
    await publish_activity(ctx, session, actor, activity)
