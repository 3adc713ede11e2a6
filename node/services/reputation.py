"""Reputation as this node sees it: the pure computation of
``protocol.reputation`` over the verified attestations and current vouches
the node holds, seeded by the node's own members."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields
from functools import partial
from typing import Any, Protocol, TypeVar

from node.services.context import NodeContext
from node.services.trust_snapshot import MemoShelf, TrustGraph, trust_memo_for
from node.storage.base import Storage
from node.storage.records import AttestationEdge, VouchRecord
from node.timeutil import parse_text, utc_now
from protocol.reputation import (
    Rating,
    Reputation,
    ReputationParams,
    Vouch,
    compute_all,
    compute_reputation,
)


@dataclass(frozen=True)
class VouchEvidence:
    """A current vouch for the subject, and its issuer's relative trust here."""

    vouch_id: str
    issuer: str
    issued_at: str
    issuer_trust: float


@dataclass(frozen=True)
class NodeReputation(Reputation):
    """A :class:`Reputation` with the vouches for its subject that fed the trust step."""

    vouches: tuple[VouchEvidence, ...] = ()


def trust_vouches(
    records: list[VouchRecord], former: Collection[str] = (), subject: str = ""
) -> list[Vouch]:
    """The trust edges of current vouches; one for a former account counts for ``subject``."""
    edges = []
    for record in records:
        vouched = subject if record.subject_iri in former else record.subject_iri
        if vouched != record.issuer_iri:
            edges.append(Vouch(vouch_id=record.iri, issuer=record.issuer_iri, subject=vouched,
                               issued_at=parse_text(record.valid_from)))
    return edges


def with_vouches(
    reputation: Reputation, vouches: list[Vouch], every: Mapping[str, Reputation]
) -> NodeReputation:
    """``reputation`` with its evidence of vouches: the latest per issuer, as counted."""
    latest: dict[str, Vouch] = {}
    for vouch in sorted(vouches, key=lambda vouch: vouch.vouch_id):
        kept = latest.get(vouch.issuer)
        if vouch.subject == reputation.subject and (
            kept is None or vouch.issued_at > kept.issued_at
        ):
            latest[vouch.issuer] = vouch
    evidence = tuple(
        VouchEvidence(vouch.vouch_id, issuer, vouch.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      every[issuer].trust if issuer in every else 0.0)
        for issuer, vouch in sorted(latest.items())
    )
    base = {field.name: getattr(reputation, field.name) for field in fields(Reputation)}
    return NodeReputation(**base, vouches=evidence)


def params_for(ctx: NodeContext) -> ReputationParams:
    settings = ctx.settings
    return ReputationParams(
        half_life_days=settings.reputation_half_life_days,
        restart_probability=settings.reputation_restart_probability,
    )


class CredentialVersion(Protocol):
    """What choosing the current version of an attestation reads of it."""

    @property
    def iri(self) -> str: ...
    @property
    def issuer_iri(self) -> str: ...
    @property
    def agreement_iri(self) -> str: ...
    @property
    def supersedes(self) -> str | None: ...
    @property
    def valid_from(self) -> str: ...
    @property
    def withdrawn_at(self) -> str | None: ...


Version = TypeVar("Version", bound=CredentialVersion)


def current_only(attestations: list[Version]) -> list[Version]:
    """One attestation per (issuer, agreement): the newest one its issuer did not
    supersede; a ``supersedes`` naming another issuer's credential is ignored."""
    by_key: dict[tuple[str, str], list[Version]] = {}
    for record in attestations:
        by_key.setdefault((record.issuer_iri, record.agreement_iri), []).append(record)
    current = []
    for versions in by_key.values():
        superseded = {v.supersedes for v in versions if v.supersedes}
        live = [v for v in versions if v.iri not in superseded]
        if live:
            current.append(max(live, key=lambda v: (v.valid_from, v.iri)))
    return current


def counted(attestations: list[Version]) -> list[Version]:
    """What reputation counts: each (issuer, agreement)'s current version
    unless its issuer withdrew it; a withdrawn revision never lets the version
    it superseded count again (SPEC §11.3)."""
    return [record for record in current_only(attestations) if record.withdrawn_at is None]


async def reputation_of(ctx: NodeContext, subject: str) -> NodeReputation:
    async with ctx.storage.read() as session:
        # Attestations about accounts that verifiably moved here count for the new one.
        former = set(await session.former_identities(subject))
    if not former:
        return _from_graph(await trust_graph(ctx), subject)

    # That rewires the trust graph for this subject alone: a computation of its
    # own, kept like the shared one (a new move makes a new key).
    async def build() -> NodeReputation:
        return _from_graph(await _graph_from_storage(ctx, former, subject), subject)

    memo = moved_shelf_for(ctx.storage).memo((subject, frozenset(former)))
    return await memo.get(partial(_inputs_version, ctx), utc_now, build)


#: Reputations of accounts that moved here, kept per subject (each is small).
_moved_shelves: weakref.WeakKeyDictionary[Storage, MemoShelf[NodeReputation]] = (
    weakref.WeakKeyDictionary()
)


def moved_shelf_for(storage: Storage) -> MemoShelf[NodeReputation]:
    shelf = _moved_shelves.get(storage)
    if shelf is None:
        shelf = _moved_shelves[storage] = MemoShelf(size=256)
    return shelf


async def _inputs_version(ctx: NodeContext) -> int:
    async with ctx.storage.read() as session:
        return await session.reputation_inputs_version()


async def trust_graph(ctx: NodeContext) -> TrustGraph:
    """Everyone's reputation, computed once per change of its inputs (see
    :mod:`node.services.trust_snapshot`)."""
    return await trust_memo_for(ctx.storage).get(
        partial(_inputs_version, ctx), utc_now, partial(_graph_from_storage, ctx)
    )


def counted_ratings(
    held: list[AttestationEdge], former: Collection[str] = (), subject: str = ""
) -> list[Rating]:
    """The counted attestations as ratings; one about a former account rates ``subject``."""
    return [
        Rating(
            attestation_id=record.iri, issuer=record.issuer_iri,
            subject=subject if record.subject_iri in former else record.subject_iri,
            agreement=record.agreement_iri, rating=record.rating,
            issued_at=parse_text(record.valid_from),
        )
        for record in counted(held)
    ]


async def _graph_from_storage(
    ctx: NodeContext, former: Collection[str] = (), subject: str = ""
) -> TrustGraph:
    """Everyone's reputation from what storage holds now; ratings and vouches
    about ``former`` accounts count for ``subject``."""
    async with ctx.storage.read() as session:
        held = await session.attestation_edges()
        vouched = await session.all_current_vouches()
        members = await session.list_members(limit=100_000)
    ratings = counted_ratings(held, former, subject)
    vouches = trust_vouches(vouched, former, subject)
    seeds = frozenset(ctx.urls.actor(member.username) for member in members if member.active)
    now, params = utc_now(), params_for(ctx)
    # Seconds of pure Python on a large network: in a thread, so the event
    # loop goes on serving other requests meanwhile.
    every = await asyncio.to_thread(
        compute_all, ratings, seeds=seeds, now=now, params=params, vouches=vouches
    )
    return TrustGraph(every=every, seeds=seeds, vouches=vouches, now=now, params=params)


def _from_graph(graph: TrustGraph, subject: str) -> NodeReputation:
    # compute_all names only actors in the graph; anyone else has no ratings.
    found = graph.every.get(subject) or compute_reputation(
        subject, [], seeds=graph.seeds, now=graph.now, params=graph.params
    )
    return with_vouches(found, graph.vouches, graph.every)


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
        "vouches": [
            {"id": vouch.vouch_id, "issuer": vouch.issuer, "valid_from": vouch.issued_at,
             "issuer_trust": vouch.issuer_trust}
            for vouch in getattr(reputation, "vouches", ())
        ],
    }


async def reputations_of(ctx: NodeContext, subjects: Collection[str]) -> dict[str, Reputation]:
    """The reputation of each of ``subjects``, from one shared trust graph, so a
    page of listings costs no computation of its own. Each value equals
    :func:`reputation_of` for that subject."""
    wanted = set(subjects)
    if not wanted:
        return {}
    async with ctx.storage.read() as session:
        moved = {subject for subject in wanted if await session.former_identities(subject)}
    # Ratings of a former account count for its new one; that rewires the trust
    # graph per subject, so the rare moved subject gets its own computation.
    found: dict[str, Reputation] = {
        subject: await reputation_of(ctx, subject) for subject in moved
    }
    if wanted - moved:
        graph = await trust_graph(ctx)
        found.update((subject, _from_graph(graph, subject)) for subject in wanted - moved)
    return found
