"""Vouches: a member states, with a signed credential, that they know another
member (here or on another node).

A vouch is a ``VouchCredential`` (protocol/SPEC.md §11.4) signed by its issuer,
kept here, served at its IRI and delivered with ``Create`` to its subject and
the issuer's followers; the issuer revokes it with ``Delete``. Current vouches
are trust edges of the reputation computation (:mod:`node.services.reputation`).
"""

from __future__ import annotations

from typing import Any

from node.errors import Conflict, NotFound, ValidationFailed
from node.federation import lookup
from node.federation.remote_actors import RemoteActors
from node.ids import new_id
from node.keys import load_ed25519_private
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.services.credentials import publish_issued, publish_withdrawn
from node.storage.base import Session
from node.storage.records import Member, VouchRecord
from node.timeutil import now_text, to_text
from protocol.builders.vouches import vouch_credential
from protocol.proofs import sign_object
from protocol.vouches import read_vouch


def vouch_iri(ctx: NodeContext, vouch_id: str) -> str:
    return f"{ctx.urls.base}/vouches/{vouch_id}"


def record_of(document: dict[str, Any], now: str) -> VouchRecord:
    """A vouch document as stored; raises SchemaError unless it is well formed."""
    vouch = read_vouch(document)
    return VouchRecord(
        iri=vouch.vouch_id, issuer_iri=vouch.issuer, subject_iri=vouch.subject,
        # Normalised, so every reader of the column can parse it.
        valid_from=to_text(vouch.issued_at), document=document, received_at=now,
        revoked_at=None,
    )


async def issue(ctx: NodeContext, member: Member, target: str) -> VouchRecord:
    """``member`` vouches for the person ``target`` names (a handle or an actor IRI)."""
    subject = await lookup.resolve_actor_iri(ctx, target)
    if subject == ctx.urls.actor(member.username):
        raise ValidationFailed("you cannot vouch for yourself",
                               errors=[{"pointer": "/subject", "reason": "yourself"}])
    if (await RemoteActors(ctx).get(subject)).type != "Person":
        raise ValidationFailed("only people can be vouched for",
                               errors=[{"pointer": "/subject", "reason": "not a person"}])
    async with ctx.storage.transaction() as tx:
        return await issue_in(ctx, tx, member, subject)


async def issue_in(
    ctx: NodeContext, session: Session, member: Member, subject: str
) -> VouchRecord:
    """Sign, keep and publish ``member``'s vouch for ``subject`` within ``session``."""
    actor = member_actor(ctx, member)
    if await session.current_vouch(actor.iri, subject) is not None:
        raise Conflict("you already vouch for this person")
    now = now_text()
    document = vouch_credential(
        id=vouch_iri(ctx, new_id()), issuer=actor.iri, subject=subject, valid_from=now
    )
    signed = sign_object(
        document, load_ed25519_private(actor.ed25519_private_pem), actor.ed25519_key_id,
        created=now,
    )
    record = record_of(signed, now)
    await session.save_vouch(record)
    await publish_issued(ctx, session, actor, signed, subject, now)
    return record


async def revoke(ctx: NodeContext, member: Member, vouch_id: str) -> None:
    """``member`` takes back one of their vouches; receivers drop it."""
    actor = member_actor(ctx, member)
    iri = vouch_iri(ctx, vouch_id)
    async with ctx.storage.transaction() as tx:
        record = await tx.get_vouch(iri)
        if record is None or record.issuer_iri != actor.iri:
            raise NotFound("no such vouch of yours")
        now = now_text()
        if not await tx.revoke_vouch(iri, actor.iri, now):
            raise Conflict("the vouch is already revoked")
        await publish_withdrawn(ctx, tx, actor, iri, record.subject_iri, now)


async def of_member(
    ctx: NodeContext, member: Member
) -> tuple[list[VouchRecord], list[VouchRecord]]:
    """The current vouches (received, given) of a member of this node."""
    iri = ctx.urls.actor(member.username)
    async with ctx.storage.read() as session:
        return await session.vouches_about(iri), await session.vouches_by(iri)


def vouch_json(record: VouchRecord) -> dict[str, Any]:
    return {
        "id": record.iri.rsplit("/", 1)[-1],
        "iri": record.iri,
        "issuer": record.issuer_iri,
        "subject": record.subject_iri,
        "valid_from": record.valid_from,
        "revoked": record.revoked_at is not None,
        # Only vouches whose issuer's proof checked out are ever stored.
        "verified": True,
    }
