"""Reputation attestations: issuing one after a completed exchange, and
checking one from elsewhere before it counts.

An attestation counts only if its proof is its issuer's, it names an
Agreement signed by both parties, the issuer is one party and the subject the
other, and the roles are the ones they played (protocol/SPEC.md §11.2).
"""

from __future__ import annotations

from typing import Any

from node.errors import Conflict, Forbidden, NotFound, ValidationFailed
from node.ids import new_id
from node.keys import load_ed25519_private
from node.services.actors import member_actor
from node.services.context import NodeContext
from node.services.credentials import publish_issued, publish_withdrawn
from node.services.exchange_state import other_party
from node.services.listing_terms import text_to_html
from node.services.outbox import new_activity_iri, publish_activity
from node.storage.base import Session
from node.storage.records import Attestation, Member
from node.timeutil import now_text
from protocol import builders
from protocol.exchange_states import ExchangeState
from protocol.proofs import sign_object
from protocol.vocab import MODE_ROLES, ExchangeMode


def party_roles(agreement: dict[str, Any]) -> dict[str, str]:
    """Each party's role name, read from the Agreement's primary commitment."""
    mode = ExchangeMode(agreement.get("exchangeMode", "give"))
    provider_role, receiver_role = MODE_ROLES[mode]
    primary = agreement.get("stipulates") or {}
    provider, receiver = primary.get("provider"), primary.get("receiver")
    if not isinstance(provider, str) or not isinstance(receiver, str) or provider == receiver:
        raise Forbidden("the Agreement does not name its two parties")
    return {provider: provider_role, receiver: receiver_role}


def record_of(document: dict[str, Any], now: str) -> Attestation:
    subject = document.get("credentialSubject") or {}
    return Attestation(
        iri=document["id"], issuer_iri=document["issuer"], subject_iri=subject["id"],
        agreement_iri=subject["agreement"], issuer_role=subject["issuerRole"],
        subject_role=subject["subjectRole"], rating=int(subject["rating"]),
        comment=subject.get("comment"), valid_from=document["validFrom"],
        supersedes=document.get("supersedes"), document=document, received_at=now,
        withdrawn_at=None,
    )


async def current_for(session: Session, issuer: str, agreement: str) -> Attestation | None:
    """The issuer's attestation for an agreement that nothing of theirs supersedes."""
    versions = await session.attestations_for_agreement(issuer, agreement)
    superseded = {v.supersedes for v in versions if v.supersedes}
    live = [v for v in versions if v.iri not in superseded and v.withdrawn_at is None]
    return max(live, key=lambda v: (v.valid_from, v.iri)) if live else None


async def issue(
    ctx: NodeContext, member: Member, exchange_id: str, rating: int, comment: str | None
) -> Attestation:
    """Attest the other party of a completed exchange (a revision supersedes)."""
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        exchange = await tx.get_exchange(exchange_id)
        if exchange is None or actor.iri not in (exchange.proposer_iri, exchange.responder_iri):
            raise NotFound("no such exchange of yours")
        if exchange.state != ExchangeState.COMPLETED.value:
            raise Conflict("attestations are for completed exchanges only")
        assert exchange.agreement is not None and exchange.agreement_iri is not None
        roles = party_roles(exchange.agreement)
        subject = other_party(exchange, actor.iri)
        previous = await current_for(tx, actor.iri, exchange.agreement_iri)
        now = now_text()
        document = builders.exchange_attestation(
            id=f"{ctx.urls.base}/attestations/{new_id()}", issuer=actor.iri, subject=subject,
            agreement=exchange.agreement_iri, subject_role=roles[subject],
            issuer_role=roles[actor.iri], rating=rating, comment=comment or None,
            valid_from=now, supersedes=previous.iri if previous else None,
        )
        signed = sign_object(
            document, load_ed25519_private(actor.ed25519_private_pem), actor.ed25519_key_id
        )
        record = record_of(signed, now)
        await tx.save_attestation(record)
        await publish_issued(ctx, tx, actor, signed, subject, now)
    return record


async def withdraw(ctx: NodeContext, member: Member, attestation_iri: str) -> None:
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        record = await tx.get_attestation(attestation_iri)
        if record is None or record.issuer_iri != actor.iri:
            raise NotFound("no such attestation of yours")
        now = now_text()
        if not await tx.withdraw_attestation(attestation_iri, actor.iri, now):
            raise Conflict("the attestation is already withdrawn")
        await publish_withdrawn(ctx, tx, actor, attestation_iri, record.subject_iri, now)


def check_rating(rating: Any) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("rating must be an integer from 1 to 5",
                               errors=[{"pointer": "/rating", "reason": "range"}])
    return rating


def roles_match(exchange_roles: dict[str, str], record: Attestation) -> bool:
    return (
        exchange_roles.get(record.issuer_iri) == record.issuer_role
        and exchange_roles.get(record.subject_iri) == record.subject_role
    )


async def reply(ctx: NodeContext, member: Member, attestation_iri: str, text: str) -> str:
    """The subject answers an attestation about them, in public."""
    if not 0 < len(text.strip()) <= 2000:
        raise ValidationFailed("a reply is 1 to 2000 characters",
                               errors=[{"pointer": "/content", "reason": "length"}])
    actor = member_actor(ctx, member)
    async with ctx.storage.transaction() as tx:
        record = await tx.get_attestation(attestation_iri)
        if record is None or record.subject_iri != actor.iri:
            raise NotFound("no attestation about you with that id")
        now = now_text()
        note_iri = f"{ctx.urls.base}/notes/{new_id()}"
        note = {
            **builders.private_message(
                id=note_iri, author=actor.iri, recipient=record.issuer_iri,
                content=text_to_html(text), in_reply_to=attestation_iri, published=now,
            ),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [ctx.urls.followers(member.username), record.issuer_iri],
        }
        await tx.save_attestation_reply(attestation_iri, note_iri, actor.iri, text, now)
        _, create_iri = new_activity_iri(ctx)
        activity = builders.create(
            id=create_iri, actor=actor.iri, object=note, to=note["to"], cc=note["cc"],
            published=now,
        )
        await publish_activity(ctx, tx, actor, activity)
    return note_iri
