"""Reputation as this node sees it: the pure computation of
``protocol.reputation`` over the verified attestations the node holds,
seeded by the node's own members."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from node.services.context import NodeContext
from node.storage.records import Attestation
from node.timeutil import parse_text, utc_now
from protocol.reputation import Rating, Reputation, ReputationParams, compute_reputation


def params_for(ctx: NodeContext) -> ReputationParams:
    settings = ctx.settings
    return ReputationParams(
        half_life_days=settings.reputation_half_life_days,
        restart_probability=settings.reputation_restart_probability,
    )


def current_only(attestations: list[Attestation]) -> list[Attestation]:
    """One attestation per (issuer, agreement): the newest one its issuer did not
    supersede; a ``supersedes`` naming another issuer's credential is ignored."""
    by_key: dict[tuple[str, str], list[Attestation]] = {}
    for record in attestations:
        by_key.setdefault((record.issuer_iri, record.agreement_iri), []).append(record)
    current = []
    for versions in by_key.values():
        superseded = {v.supersedes for v in versions if v.supersedes}
        live = [v for v in versions if v.iri not in superseded]
        if live:
            current.append(max(live, key=lambda v: (v.valid_from, v.iri)))
    return current


async def reputation_of(ctx: NodeContext, subject: str) -> Reputation:
    async with ctx.storage.read() as session:
        held = await session.all_current_attestations()
        members = await session.list_members(limit=100_000)
        # Attestations about accounts that verifiably moved here count for the new one.
        former = set(await session.former_identities(subject))
    seeds = {ctx.urls.actor(member.username) for member in members if member.active}
    ratings = [
        Rating(
            attestation_id=record.iri, issuer=record.issuer_iri,
            subject=subject if record.subject_iri in former else record.subject_iri,
            agreement=record.agreement_iri, rating=record.rating,
            issued_at=parse_text(record.valid_from),
        )
        for record in current_only(held)
    ]
    return compute_reputation(
        subject, ratings, seeds=seeds, now=utc_now(), params=params_for(ctx)
    )


def reputation_json(reputation: Reputation) -> dict[str, Any]:
    return {
        "subject": reputation.subject,
        "score": reputation.score,
        "low": reputation.low,
        "high": reputation.high,
        "count": reputation.count,
        "effective_weight": reputation.effective_weight,
        "evidence": list(reputation.evidence),
        "issuer_weights": dict(reputation.issuer_weights),
        "trust": reputation.trust,
        "parameters": asdict(reputation.params),
    }
