"""Attestations from other nodes: verified against the issuer's key and the
Agreement both parties signed before they count for reputation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from node.errors import Forbidden
from node.federation.fetch import fetch_json
from node.federation.handlers import credential_deletes
from node.federation.handlers.exchange import signed_by
from node.federation.policy import host_of
from node.federation.remote_actors import RemoteActors
from node.services.actors import instance_actor
from node.services.attestations import party_roles, record_of, roles_match
from node.services.context import NodeContext
from node.storage.records import Attestation
from node.timeutil import now_text
from protocol.exchange_states import ExchangeState
from protocol.normalize import has_type, id_of
from protocol.proofs import verify_authored_object
from protocol.validation import validate


async def agreement_for(ctx: NodeContext, agreement_iri: str) -> dict[str, Any]:
    """The Agreement an attestation names: ours if we were a party (and it must be
    completed), otherwise as its origin serves it."""
    async with ctx.storage.read() as session:
        exchange = await session.get_exchange_by_agreement(agreement_iri)
    if exchange is not None:
        if exchange.state != ExchangeState.COMPLETED.value or exchange.agreement is None:
            raise Forbidden("the attested exchange is not completed")
        return exchange.agreement
    agreement = await fetch_json(ctx, agreement_iri, signer=await instance_actor(ctx))
    if id_of(agreement) != agreement_iri:
        raise Forbidden("the fetched Agreement does not carry the attested id")
    return agreement


async def verify_attestation(ctx: NodeContext, document: dict[str, Any]) -> None:
    """Raise unless ``document`` is a valid attestation (SPEC §11.2)."""
    validate(document, "attestation")
    issuer = id_of(document.get("issuer")) or ""
    if host_of(issuer) != host_of(document.get("id", "")):
        raise Forbidden("an attestation lives on its issuer's origin")
    issuer_actor = await RemoteActors(ctx).get(issuer)
    verify_authored_object(document, issuer_actor.document)
    record = record_of(document, now_text())
    agreement = await agreement_for(ctx, record.agreement_iri)
    roles = party_roles(agreement)
    if record.issuer_iri not in roles or record.subject_iri not in roles:
        raise Forbidden("the issuer and subject must be the Agreement's two parties")
    if not roles_match(roles, record):
        raise Forbidden("the attested roles are not the ones the parties played")
    if await signed_by(ctx, agreement, list(roles)) != set(roles):
        raise Forbidden("the Agreement is not signed by both parties")


async def store_attestation(ctx: NodeContext, activity: dict[str, Any]) -> str | None:
    """A Create of an attestation; None when the object is not one."""
    document = activity.get("object")
    if not isinstance(document, dict) or not has_type(document, "VerifiableCredential"):
        return None
    if id_of(document.get("issuer")) != id_of(activity.get("actor")):
        raise Forbidden("only its issuer may publish an attestation")
    await verify_attestation(ctx, document)
    stored, withdrawn_at = await keep_attestation(ctx, record_of(document, now_text()))
    if not stored:
        return "ignored: already held"
    if withdrawn_at:
        return "applied: attestation, withdrawn before it arrived"
    return "applied: attestation"


async def keep_attestation(ctx: NodeContext, record: Attestation) -> tuple[bool, str | None]:
    """Store a verified attestation unless already held; answers whether it was
    stored and, when its issuer deleted it here before it arrived, when (it is
    kept withdrawn: it still supersedes what it revised)."""
    async with ctx.storage.transaction() as tx:
        await tx.serialize_on(record.iri)  # with a Delete of it processed at the same time
        withdrawn_at = await credential_deletes.revoked_before_arrival(
            tx, record.iri, record.issuer_iri
        )
        stored = await tx.save_attestation(replace(record, withdrawn_at=withdrawn_at))
    return stored, withdrawn_at
