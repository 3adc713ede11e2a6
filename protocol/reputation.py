"""Reputation from verified exchange attestations: trust-weighted Beta scores.

A pure, deterministic function of its inputs, so that any client holding the
same attestations can recompute a node's answer (SPEC "Reputation"):

1. keep one rating per (issuer, agreement), the latest (SPEC §11.3);
2. propagate trust from the node's own members (the seeds) over positive
   ratings and vouches, EigenTrust-style (:mod:`protocol.trust`);
3. weigh each rating of the subject by its recency and its issuer's trust,
   and read the score and its credible interval off a Beta posterior.

Verification and revision handling happen before: pass only ratings from
attestations that verified (SPEC §11.2) and vouches that are not revoked.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from protocol.beta import beta_quantile
from protocol.trust import (
    Rating,
    ReputationParams,
    Vouch,
    current_ratings,
    global_trust,
    local_trust,
    recency_weight,
)
from protocol.vocab import RATING_MAX, RATING_MIN

__all__ = [
    "Rating",
    "Reputation",
    "ReputationParams",
    "Vouch",
    "compute_all",
    "compute_reputation",
    "current_ratings",
    "global_trust",
    "local_trust",
    "recency_weight",
]

_SPAN = RATING_MAX - RATING_MIN


@dataclass(frozen=True)
class Reputation:
    """One member's reputation as a node computed it, with the evidence to check it.

    ``score``, ``low`` and ``high`` are on the rating scale (1 to 5) and are
    ``None`` when no rating counted. ``evidence`` lists the attestation ids of
    the ratings that counted, sorted; ``issuer_weights`` maps each of their
    issuers to the trust weight (0 to 1) their ratings carried, so a client can
    check the score from the evidence alone, and the weights by recomputing
    :func:`global_trust`. ``trust`` is the subject's own relative trust
    (uncapped: 1.0 is what a seed gets from the restart alone).
    """

    subject: str
    score: float | None
    low: float | None
    high: float | None
    count: int
    effective_weight: float
    evidence: tuple[str, ...]
    issuer_weights: Mapping[str, float]
    trust: float
    params: ReputationParams


def compute_reputation(
    subject: str,
    ratings: Iterable[Rating],
    *,
    seeds: Collection[str],
    now: datetime,
    params: ReputationParams | None = None,
    vouches: Iterable[Vouch] = (),
) -> Reputation:
    """The reputation of ``subject`` (any actor IRI, local or remote) from ``ratings``.

    ``seeds`` are the node's own members, trusted in advance; ``now`` fixes
    the recency weights, so the same inputs always give the same answer.
    """
    params = params or ReputationParams()
    kept = current_ratings(ratings)
    trust = global_trust(kept, seeds=seeds, now=now, params=params, vouches=vouches)
    about_subject = [rating for rating in kept if rating.subject == subject]
    return _score(subject, about_subject, trust, now, params)


def compute_all(
    ratings: Iterable[Rating],
    *,
    seeds: Collection[str],
    now: datetime,
    params: ReputationParams | None = None,
    vouches: Iterable[Vouch] = (),
) -> dict[str, Reputation]:
    """The reputation of every actor named in the inputs, sharing one trust computation.

    Keys are actor IRIs in sorted order: every issuer and subject of a rating
    or vouch, and every seed. Each value equals what :func:`compute_reputation`
    returns for that actor.
    """
    params = params or ReputationParams()
    kept = current_ratings(ratings)
    trust = global_trust(kept, seeds=seeds, now=now, params=params, vouches=vouches)
    by_subject: dict[str, list[Rating]] = {actor: [] for actor in trust}
    for rating in kept:
        by_subject[rating.subject].append(rating)
    return {
        actor: _score(actor, by_subject[actor], trust, now, params) for actor in sorted(trust)
    }


def _score(
    subject: str,
    ratings: list[Rating],
    trust: Mapping[str, float],
    now: datetime,
    params: ReputationParams,
) -> Reputation:
    """The Beta posterior over ``subject``'s normalised rating, from ratings of them."""
    positive = params.prior_strength * params.prior_mean
    negative = params.prior_strength * (1.0 - params.prior_mean)
    evidence: list[str] = []
    issuer_weights: dict[str, float] = {}
    effective_weight = 0.0
    by_issuer: dict[str, list[Rating]] = {}
    for rating in ratings:
        by_issuer.setdefault(rating.issuer, []).append(rating)
    # Issuers in sorted order, so the float sums do not depend on the input's order.
    for issuer, given in sorted(by_issuer.items()):
        trust_weight = min(1.0, trust.get(issuer, 0.0))
        if trust_weight <= 0.0 or trust_weight < params.min_trust:
            continue
        recencies = [recency_weight(r.issued_at, now, params.half_life_days) for r in given]
        recency = math.fsum(recencies)
        if recency > 0.0:
            # One voice per issuer: repeated (or fabricated) agreements add no weight past the cap.
            weight = trust_weight * min(recency, params.max_weight_per_issuer)
            mean = math.fsum(
                w * (r.rating - RATING_MIN) / _SPAN for w, r in zip(recencies, given, strict=True)
            ) / recency
            positive += weight * mean
            negative += weight * (1.0 - mean)
            effective_weight += weight
        evidence.extend(r.attestation_id for r in given)
        issuer_weights[issuer] = trust_weight
    subject_trust = trust.get(subject, 0.0)
    if not evidence:
        return Reputation(
            subject, None, None, None, 0, 0.0, (), MappingProxyType({}), subject_trust, params
        )
    mean = positive / (positive + negative)
    tail = (1.0 - params.credible_level) / 2.0
    # A very lopsided prior can leave the mean outside the central interval; widen to hold it.
    low = min(beta_quantile(tail, positive, negative), mean)
    high = max(beta_quantile(1.0 - tail, positive, negative), mean)
    return Reputation(
        subject=subject,
        score=RATING_MIN + _SPAN * mean,
        low=RATING_MIN + _SPAN * low,
        high=RATING_MIN + _SPAN * high,
        count=len(evidence),
        effective_weight=effective_weight,
        evidence=tuple(sorted(evidence)),
        issuer_weights=MappingProxyType(dict(sorted(issuer_weights.items()))),
        trust=subject_trust,
        params=params,
    )
