"""Global trust over actors, EigenTrust-style, seeded by a node's own members.

The inputs of a reputation computation (:class:`Rating`, :class:`Vouch`,
:class:`ReputationParams`) live here with the trust step that consumes them;
:mod:`protocol.reputation` turns trust into scores. Everything is iterated in
sorted order, so floating-point sums do not depend on the order of the input.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from protocol.vocab import RATING_MAX, RATING_MIN

_SECONDS_PER_DAY = 86_400.0
_NEUTRAL = (RATING_MIN + RATING_MAX) / 2
_HALF_SPAN = (RATING_MAX - RATING_MIN) / 2


def _check_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class Rating:
    """The part of a verified ``ExchangeAttestation`` that reputation uses (SPEC §11).

    ``issued_at`` is the credential's ``validFrom``.
    """

    attestation_id: str
    issuer: str
    subject: str
    agreement: str
    rating: int
    issued_at: datetime

    def __post_init__(self) -> None:
        if isinstance(self.rating, bool) or not RATING_MIN <= self.rating <= RATING_MAX:
            raise ValueError(f"rating must be an integer from {RATING_MIN} to {RATING_MAX}")
        if self.issuer == self.subject:
            raise ValueError("a member cannot rate themselves")
        _check_aware(self.issued_at, "issued_at")


@dataclass(frozen=True)
class Vouch:
    """A current (unrevoked) statement by ``issuer`` that they know ``subject``."""

    vouch_id: str
    issuer: str
    subject: str
    issued_at: datetime

    def __post_init__(self) -> None:
        if self.issuer == self.subject:
            raise ValueError("a member cannot vouch for themselves")
        _check_aware(self.issued_at, "issued_at")


@dataclass(frozen=True)
class ReputationParams:
    """A node's reputation settings; each default is documented in SPEC "Reputation"."""

    #: Age at which a rating or vouch counts half as much; ``math.inf`` turns decay off.
    half_life_days: float = 365.0
    #: EigenTrust's restart probability: the share of trust sent back to the seeds each step.
    restart_probability: float = 0.15
    #: Power iteration stops when the L1 change of the trust vector falls below this.
    tolerance: float = 1e-10
    max_iterations: int = 1000
    #: A vouch's trust edge, in units of one fresh 5-star rating.
    vouch_weight: float = 0.5
    #: Pseudo-ratings in the Beta prior, and their mean on the 0..1 scale (0.5 is a 3).
    prior_strength: float = 2.0
    prior_mean: float = 0.5
    #: Probability mass inside the reported [low, high] interval.
    credible_level: float = 0.9
    #: Ratings whose issuer's trust weight is below this do not count at all.
    min_trust: float = 0.01
    #: The most weight one issuer's ratings of one subject carry together (in fresh ratings).
    max_weight_per_issuer: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "half_life_days": self.half_life_days > 0,
            "restart_probability": 0 < self.restart_probability <= 1,
            "tolerance": self.tolerance > 0,
            "max_iterations": self.max_iterations >= 1,
            "vouch_weight": math.isfinite(self.vouch_weight) and self.vouch_weight >= 0,
            "prior_strength": math.isfinite(self.prior_strength) and self.prior_strength > 0,
            "prior_mean": 0 < self.prior_mean < 1,
            "credible_level": 0 < self.credible_level < 1,
            "min_trust": 0 <= self.min_trust <= 1,
            "max_weight_per_issuer": self.max_weight_per_issuer > 0,
        }
        wrong = sorted(name for name, ok in checks.items() if not ok)
        if wrong:
            raise ValueError(f"reputation parameters out of range: {', '.join(wrong)}")


def recency_weight(issued_at: datetime, now: datetime, half_life_days: float) -> float:
    """2 ** (-age / half-life), with a future ``issued_at`` counting as age zero."""
    _check_aware(now, "now")
    age_days = max(0.0, (now - issued_at).total_seconds() / _SECONDS_PER_DAY)
    return 0.5 ** (age_days / half_life_days)


def current_ratings(ratings: Iterable[Rating]) -> list[Rating]:
    """One rating per (issuer, agreement), the latest, sorted by attestation id.

    The caller should already have applied ``supersedes`` and withdrawals
    (SPEC §11.3); this guards the computation against duplicates. Among
    ratings by one issuer on one agreement the latest ``issued_at`` wins, then
    the greatest attestation id. The same id with different content is refused.
    """
    by_id: dict[str, Rating] = {}
    for rating in ratings:
        known = by_id.setdefault(rating.attestation_id, rating)
        if known != rating:
            raise ValueError(f"two different ratings share the id {rating.attestation_id}")
    latest: dict[tuple[str, str], Rating] = {}
    for rating in by_id.values():
        key = (rating.issuer, rating.agreement)
        kept = latest.get(key)
        if kept is None or (rating.issued_at, rating.attestation_id) > (
            kept.issued_at,
            kept.attestation_id,
        ):
            latest[key] = rating
    return sorted(latest.values(), key=lambda rating: rating.attestation_id)


def local_trust(
    ratings: Iterable[Rating],
    *,
    now: datetime,
    params: ReputationParams,
    vouches: Iterable[Vouch] = (),
) -> dict[str, dict[str, float]]:
    """Each issuer's normalised local trust c_ij in the actors it rated well or vouched for.

    s_ij sums i's recency-weighted (rating - 3) / 2 over its ratings of j,
    plus ``vouch_weight`` times the recency of i's vouch for j; rows keep the
    positive s_ij and scale them to sum to 1. Issuers with no positive entry
    are left out (their trust returns to the seeds).
    """
    current_vouches: dict[tuple[str, str], Vouch] = {}
    for vouch in sorted(vouches, key=lambda vouch: vouch.vouch_id):
        # A repeated vouch for the same person adds nothing; the latest one counts.
        kept = current_vouches.get((vouch.issuer, vouch.subject))
        if kept is None or vouch.issued_at > kept.issued_at:
            current_vouches[(vouch.issuer, vouch.subject)] = vouch
    raw: dict[str, dict[str, float]] = {}
    for rating in sorted(ratings, key=lambda rating: rating.attestation_id):
        row = raw.setdefault(rating.issuer, {})
        recency = recency_weight(rating.issued_at, now, params.half_life_days)
        row[rating.subject] = (
            row.get(rating.subject, 0.0) + recency * (rating.rating - _NEUTRAL) / _HALF_SPAN
        )
    for (issuer, subject), vouch in sorted(current_vouches.items()):
        row = raw.setdefault(issuer, {})
        recency = recency_weight(vouch.issued_at, now, params.half_life_days)
        row[subject] = row.get(subject, 0.0) + params.vouch_weight * recency
    normalised: dict[str, dict[str, float]] = {}
    for issuer, row in sorted(raw.items()):
        positive = sorted((subject, value) for subject, value in row.items() if value > 0.0)
        total = math.fsum(value for _, value in positive)
        if positive:
            normalised[issuer] = {subject: value / total for subject, value in positive}
    return normalised


def global_trust(
    ratings: Iterable[Rating],
    *,
    seeds: Collection[str],
    now: datetime,
    params: ReputationParams,
    vouches: Iterable[Vouch] = (),
) -> dict[str, float]:
    """Every actor's global trust relative to a seed's restart share, sorted by actor.

    1.0 is the trust a seed receives from the restart alone, so every seed has
    at least 1.0; an actor no trust path from a seed reaches has 0.0. Without
    seeds the restart is uniform over all actors and everyone has at least 1.0.
    Actors are every issuer and subject of a rating or vouch, and every seed.
    Pass ratings through :func:`current_ratings` first.
    """
    ratings = list(ratings)
    vouches = list(vouches)
    actors = sorted(
        {actor for rating in ratings for actor in (rating.issuer, rating.subject)}
        | {actor for vouch in vouches for actor in (vouch.issuer, vouch.subject)}
        | set(seeds)
    )
    if not actors:
        return {}
    index = {actor: position for position, actor in enumerate(actors)}
    rows = local_trust(ratings, now=now, params=params, vouches=vouches)
    targets: list[list[int]] = [[] for _ in actors]
    shares: list[list[float]] = [[] for _ in actors]
    for issuer, row in rows.items():
        targets[index[issuer]] = [index[subject] for subject in row]
        shares[index[issuer]] = list(row.values())
    restart_set = [index[seed] for seed in sorted(set(seeds))] or list(range(len(actors)))
    trust = _power_iteration(targets, shares, restart_set, params)
    # Each restart actor receives at least restart_probability / |restart set| every step.
    floor = params.restart_probability / len(restart_set)
    return {actor: trust[index[actor]] / floor for actor in actors}


def _power_iteration(
    targets: list[list[int]],
    shares: list[list[float]],
    restart_set: list[int],
    params: ReputationParams,
) -> list[float]:
    """The fixed point of t = (1 - a) C^T t + a p, dangling rows sending their trust to p."""
    size = len(targets)
    restart_share = 1.0 / len(restart_set)
    damping = 1.0 - params.restart_probability
    trust = [0.0] * size
    for seed in restart_set:
        trust[seed] = restart_share
    for _ in range(params.max_iterations):
        following = [0.0] * size
        dangling = 0.0
        for source in range(size):
            mass = trust[source]
            if mass == 0.0:
                continue
            row_targets = targets[source]
            if not row_targets:
                dangling += mass
                continue
            mass *= damping
            for target, share in zip(row_targets, shares[source], strict=True):
                following[target] += mass * share
        # Restart plus the dangling mass, both spread over the restart set.
        back = (params.restart_probability + damping * dangling) * restart_share
        for seed in restart_set:
            following[seed] += back
        change = math.fsum(abs(new - old) for new, old in zip(following, trust, strict=True))
        trust = following
        if change < params.tolerance:
            break
    return trust
