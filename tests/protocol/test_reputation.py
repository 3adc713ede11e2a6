"""Reputation: hand-checkable scores, recency, sybil rings, vouches and determinism."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.reputation import (
    Rating,
    ReputationParams,
    Vouch,
    compute_all,
    compute_reputation,
    current_ratings,
    global_trust,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SEEDS = [f"https://valley.example.org/users/seed{index:02}" for index in range(20)]
TARGET = "https://hill.example.org/users/target"
RING = [f"https://ring.example.org/users/{index:02}" for index in range(20)]


class Ratings:
    """Makes ratings with fresh ids and agreements unless told otherwise."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(
        self, issuer: str, subject: str, rating: int = 5, *, days: float = 0.0,
        agreement: str | None = None,
    ) -> Rating:
        self.made += 1
        return Rating(
            attestation_id=f"https://example.org/attestations/{self.made:05}",
            issuer=issuer,
            subject=subject,
            agreement=agreement or f"https://example.org/agreements/{self.made:05}",
            rating=rating,
            issued_at=NOW - timedelta(days=days),
        )


@pytest.fixture
def rate() -> Ratings:
    return Ratings()


def ring_ratings(rate: Ratings, ring: list[str]) -> list[Rating]:
    """Every ring account rates every other and the target 5."""
    return [rate(a, b) for a in ring for b in ring if a != b] + [rate(a, TARGET) for a in ring]


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
def test_one_rating_of_5_from_a_seed_is_a_wide_beta_2_1(rate: Ratings) -> None:
    result = compute_reputation(TARGET, [rate(SEEDS[0], TARGET)], seeds=SEEDS, now=NOW)
    # Uniform prior plus one full rating at x = 1: Beta(2, 1), whose CDF is x^2.
    assert result.score == pytest.approx(1 + 4 * 2 / 3)
    assert result.low == pytest.approx(1 + 4 * math.sqrt(0.05))
    assert result.high == pytest.approx(1 + 4 * math.sqrt(0.95))
    assert (result.count, result.effective_weight) == (1, 1.0)
    assert dict(result.issuer_weights) == {SEEDS[0]: 1.0}


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
def test_many_ratings_narrow_the_interval(rate: Ratings) -> None:
    one = compute_reputation(TARGET, [rate(SEEDS[0], TARGET)], seeds=SEEDS, now=NOW)
    many = compute_reputation(TARGET, [rate(s, TARGET) for s in SEEDS], seeds=SEEDS, now=NOW)
    # Beta(21, 1): CDF x^21.
    assert many.low == pytest.approx(1 + 4 * 0.05 ** (1 / 21))
    assert many.score == pytest.approx(1 + 4 * 21 / 22)
    assert many.high - many.low < (one.high - one.low) / 4
    assert many.count == 20 and len(many.evidence) == 20 and list(many.evidence) == sorted(
        many.evidence
    )


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
def test_no_rating_means_no_score(rate: Ratings) -> None:
    result = compute_reputation(TARGET, [rate(SEEDS[0], SEEDS[1])], seeds=SEEDS, now=NOW)
    assert (result.score, result.low, result.high, result.count) == (None, None, None, 0)
    assert result.evidence == () and result.trust == 0.0


@pytest.mark.spec("Kula SPEC Reputation: recency")
def test_a_rating_one_half_life_old_weighs_half(rate: Ratings) -> None:
    old = compute_reputation(TARGET, [rate(SEEDS[0], TARGET, days=365)], seeds=SEEDS, now=NOW)
    assert old.effective_weight == pytest.approx(0.5)
    assert old.score == pytest.approx(1 + 4 * 1.5 / 2.5)
    # A fresh 1 outweighs a 5 two half-lives old: a = 1 + 0.25, b = 1 + 1.
    mixed = [rate(SEEDS[0], TARGET, 5, days=730), rate(SEEDS[1], TARGET, 1)]
    assert compute_reputation(TARGET, mixed, seeds=SEEDS, now=NOW).score == pytest.approx(
        1 + 4 * 1.25 / 3.25
    )
    future = compute_reputation(TARGET, [rate(SEEDS[0], TARGET, days=-30)], seeds=SEEDS, now=NOW)
    assert future.effective_weight == 1.0


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
def test_one_issuer_is_one_voice(rate: Ratings) -> None:
    repeated = [rate(SEEDS[0], TARGET, 5) for _ in range(10)]
    result = compute_reputation(TARGET, repeated, seeds=SEEDS, now=NOW)
    assert result.count == 10 and result.effective_weight == pytest.approx(1.0)
    mixed = [rate(SEEDS[0], TARGET, 5), rate(SEEDS[0], TARGET, 1, days=365)]
    result = compute_reputation(TARGET, mixed, seeds=SEEDS, now=NOW)
    # Recency-weighted mean x = (1 * 1 + 0.5 * 0) / 1.5, carried with weight 1.
    assert result.score == pytest.approx(1 + 4 * (1 + 2 / 3) / 3)


@pytest.mark.spec("Kula SPEC §11.3: one current attestation per issuer and agreement")
def test_only_the_latest_rating_per_issuer_and_agreement_counts(rate: Ratings) -> None:
    first = rate(SEEDS[0], TARGET, 1, days=2, agreement="urn:agreement:1")
    revised = rate(SEEDS[0], TARGET, 5, days=1, agreement="urn:agreement:1")
    assert current_ratings([revised, first, revised]) == [revised]
    result = compute_reputation(TARGET, [first, revised], seeds=SEEDS, now=NOW)
    assert result.evidence == (revised.attestation_id,)
    forged = Rating(first.attestation_id, SEEDS[1], TARGET, "urn:agreement:2", 5, NOW)
    with pytest.raises(ValueError, match="share the id"):
        current_ratings([first, forged])


@pytest.mark.spec("Kula SPEC Reputation: global trust")
def test_an_isolated_ring_gains_nothing(rate: Ratings) -> None:
    honest = [rate(seed, TARGET) for seed in SEEDS]
    ring_only = compute_reputation(TARGET, ring_ratings(rate, RING), seeds=SEEDS, now=NOW)
    assert ring_only.score is None and ring_only.count == 0
    trust = global_trust(current_ratings(ring_ratings(rate, RING)), seeds=SEEDS, now=NOW,
                         params=ReputationParams())
    assert all(trust[account] == 0.0 for account in RING)
    seeded = compute_reputation(TARGET, honest, seeds=SEEDS, now=NOW)
    assert seeded.count == 20 and seeded.effective_weight == pytest.approx(20.0)


@pytest.mark.spec("Kula SPEC Reputation: global trust")
def test_a_ring_linked_by_one_seed_gains_little(rate: Ratings) -> None:
    honest_members = [f"https://hill.example.org/users/m{index:02}" for index in range(19)]
    # Every seed trades with honest members; one seed also had a good deal with a ring account.
    network = [rate(seed, member) for seed in SEEDS for member in honest_members]
    network += [rate(member, seed) for seed in SEEDS for member in honest_members]
    network += [rate(SEEDS[0], RING[0])]
    ringed = compute_reputation(TARGET, network + ring_ratings(rate, RING), seeds=SEEDS, now=NOW)
    seeded = compute_reputation(
        TARGET, network + [rate(seed, TARGET) for seed in SEEDS], seeds=SEEDS, now=NOW
    )
    naive = compute_reputation(TARGET, network + ring_ratings(rate, RING), seeds=(), now=NOW)
    assert naive.effective_weight == pytest.approx(20.0)
    assert 0 < ringed.effective_weight < 1.0 < 20.0 == pytest.approx(seeded.effective_weight)
    assert ringed.high - ringed.low > 4 * (seeded.high - seeded.low)
    assert ringed.score < seeded.score - 1.0


@pytest.mark.spec("Kula SPEC Reputation: global trust")
def test_without_seeds_every_actor_is_fully_trusted(rate: Ratings) -> None:
    ratings = current_ratings([*ring_ratings(rate, RING), rate(SEEDS[0], SEEDS[1])])
    trust = global_trust(ratings, seeds=(), now=NOW, params=ReputationParams())
    assert min(trust.values()) >= 1.0 - 1e-12
    # The raw trust vector sums to one: sum(tau) * alpha / |A| == 1.
    assert math.fsum(trust.values()) * 0.15 / len(trust) == pytest.approx(1.0)


@pytest.mark.spec("Kula SPEC Reputation: vouches")
def test_a_seeds_vouch_lets_a_newcomer_count(rate: Ratings) -> None:
    newcomer = "https://hill.example.org/users/newcomer"
    ratings = [rate(newcomer, TARGET, 5)]
    vouch = Vouch("urn:vouch:1", SEEDS[0], newcomer, NOW)
    assert compute_reputation(TARGET, ratings, seeds=SEEDS, now=NOW).count == 0
    vouched = compute_reputation(TARGET, ratings, seeds=SEEDS, now=NOW, vouches=[vouch])
    assert vouched.count == 1 and 0 < vouched.issuer_weights[newcomer] <= 1.0
    assert compute_reputation(newcomer, ratings, seeds=SEEDS, now=NOW, vouches=[vouch]).trust > 0
    no_vouch_weight = ReputationParams(vouch_weight=0.0)
    assert compute_reputation(
        TARGET, ratings, seeds=SEEDS, now=NOW, vouches=[vouch], params=no_vouch_weight
    ).count == 0


@pytest.mark.spec("Kula SPEC Reputation: vouches")
def test_a_vouching_ring_gains_nothing(rate: Ratings) -> None:
    vouches = [Vouch(f"urn:vouch:{a}:{b}", a, b, NOW) for a in RING for b in RING if a != b]
    result = compute_reputation(
        TARGET, [rate(a, TARGET) for a in RING], seeds=SEEDS, now=NOW, vouches=vouches
    )
    assert result.count == 0 and result.score is None


@pytest.mark.spec("Kula SPEC Reputation: inputs")
def test_the_answer_does_not_depend_on_input_order(rate: Ratings) -> None:
    shuffler = random.Random(3)
    people = SEEDS[:5] + RING[:5] + [TARGET]
    ratings = [rate(shuffler.choice(people[:10]), TARGET, shuffler.randint(1, 5),
                    days=shuffler.uniform(0, 900)) for _ in range(40)]
    ratings += [rate(a, b, shuffler.randint(1, 5)) for a in people for b in people if a != b]
    vouches = [Vouch(f"urn:vouch:{i}", SEEDS[i], RING[i], NOW) for i in range(3)]
    first = compute_all(ratings, seeds=SEEDS[:5], now=NOW, vouches=vouches)
    shuffler.shuffle(ratings)
    vouches.reverse()
    again = compute_all(ratings, seeds=list(reversed(SEEDS[:5])), now=NOW, vouches=vouches)
    assert first == again
    assert list(first) == sorted(first)
    assert first[TARGET] == compute_reputation(
        TARGET, ratings, seeds=SEEDS[:5], now=NOW, vouches=vouches
    )


@pytest.mark.spec("Kula SPEC Reputation: inputs")
@pytest.mark.parametrize(
    "change",
    [{"half_life_days": 0}, {"restart_probability": 0}, {"restart_probability": 1.5},
     {"prior_strength": 0}, {"prior_mean": 1}, {"credible_level": 1}, {"min_trust": -0.1},
     {"vouch_weight": -1}, {"max_iterations": 0}, {"max_weight_per_issuer": 0}],
)
def test_parameters_out_of_range_are_refused(change: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(change))):
        ReputationParams(**change)


@pytest.mark.spec("Kula SPEC §11.1: rating from 1 to 5")
def test_malformed_ratings_are_refused() -> None:
    for rating in (0, 6, True):
        with pytest.raises(ValueError):
            Rating("urn:a", SEEDS[0], TARGET, "urn:g", rating, NOW)
    with pytest.raises(ValueError):
        Rating("urn:a", TARGET, TARGET, "urn:g", 5, NOW)
    with pytest.raises(ValueError):
        Rating("urn:a", SEEDS[0], TARGET, "urn:g", 5, datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        Vouch("urn:v", TARGET, TARGET, NOW)


ACTORS = SEEDS[:3] + RING[:3] + [TARGET]
RATING = st.builds(
    lambda issuer, subject, rating, days: (issuer, subject, rating, days),
    st.sampled_from(ACTORS), st.sampled_from(ACTORS), st.integers(1, 5),
    st.floats(min_value=-10, max_value=3000),
).filter(lambda r: r[0] != r[1])


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
@settings(max_examples=60, deadline=None)
@given(raw=st.lists(RATING, max_size=25), seed_index=st.integers(0, 2))
def test_scores_stay_in_range_and_a_seed_rating_counts_once(
    raw: list[tuple[str, str, int, float]], seed_index: int
) -> None:
    rate = Ratings()
    ratings = [rate(i, s, r, days=d) for i, s, r, d in raw]
    params = ReputationParams(min_trust=0.0)
    for result in compute_all(ratings, seeds=SEEDS[:3], now=NOW, params=params).values():
        if result.score is None:
            assert result.count == 0
            continue
        assert 1.0 <= result.low <= result.score <= result.high <= 5.0
        assert result.count == len(result.evidence) > 0
    before = compute_reputation(TARGET, ratings, seeds=SEEDS[:3], now=NOW, params=params)
    added = [*ratings, rate(SEEDS[seed_index], TARGET, 3)]
    after = compute_reputation(TARGET, added, seeds=SEEDS[:3], now=NOW, params=params)
    assert after.count == before.count + 1
