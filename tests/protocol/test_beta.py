"""The Beta CDF and quantiles against closed forms that need no numerical library."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from protocol.beta import beta_cdf, beta_quantile


def binomial_tail(x: float, a: int, b: int) -> float:
    """I_x(a, b) for integer a, b: P(at least a successes in a + b - 1 trials)."""
    trials = a + b - 1
    return math.fsum(
        math.comb(trials, k) * x**k * (1 - x) ** (trials - k) for k in range(a, trials + 1)
    )


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
@pytest.mark.parametrize(("a", "b"), [(1, 1), (2, 5), (5, 2), (10, 3), (40, 60), (1, 30)])
@pytest.mark.parametrize("x", [0.001, 0.05, 0.3, 0.5, 0.77, 0.999])
def test_cdf_matches_the_binomial_identity(a: int, b: int, x: float) -> None:
    assert beta_cdf(x, a, b) == pytest.approx(binomial_tail(x, a, b), abs=1e-13)


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
@pytest.mark.parametrize("p", [0.05, 0.25, 0.5, 0.75, 0.95])
def test_beta_2_5_quantiles_satisfy_the_binomial_identity(p: float) -> None:
    quantile = beta_quantile(p, 2, 5)
    assert binomial_tail(quantile, 2, 5) == pytest.approx(p, abs=1e-11)
    # Beta(2, 5) has CDF 1 - (1 - x)^5 (1 + 5x); check the form independently.
    assert 1 - (1 - quantile) ** 5 * (1 + 5 * quantile) == pytest.approx(p, abs=1e-11)


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
@pytest.mark.parametrize("p", [0.05, 0.5, 0.95])
@pytest.mark.parametrize("shape", [0.7, 1.0, 3.0, 21.0, 250.5])
def test_quantiles_match_closed_forms(p: float, shape: float) -> None:
    # Beta(1, b) has CDF 1 - (1 - x)^b and Beta(a, 1) has CDF x^a.
    assert beta_quantile(p, 1.0, shape) == pytest.approx(1 - (1 - p) ** (1 / shape), abs=1e-12)
    assert beta_quantile(p, shape, 1.0) == pytest.approx(p ** (1 / shape), abs=1e-12)


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.95])
def test_arcsine_distribution_quantiles(p: float) -> None:
    # Beta(1/2, 1/2) is the arcsine law: F(x) = (2/pi) asin(sqrt(x)).
    assert beta_quantile(p, 0.5, 0.5) == pytest.approx(math.sin(math.pi * p / 2) ** 2, abs=1e-11)


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
def test_large_shapes_concentrate_at_the_mean() -> None:
    a, b = 3000.0, 1000.0
    spread = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert beta_quantile(0.5, a, b) == pytest.approx(0.75, abs=spread / 10)
    # Close to normal for shapes this large: the 95% point is about 1.645 sd out.
    assert beta_quantile(0.95, a, b) == pytest.approx(0.75 + 1.645 * spread, abs=spread / 20)


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
def test_edges_and_bad_arguments() -> None:
    assert beta_cdf(0.0, 2, 3) == 0.0 and beta_cdf(1.0, 2, 3) == 1.0
    assert beta_cdf(-1.0, 2, 3) == 0.0 and beta_cdf(2.0, 2, 3) == 1.0
    assert beta_quantile(0.0, 2, 3) == 0.0 and beta_quantile(1.0, 2, 3) == 1.0
    for a, b in [(0, 1), (1, -2), (math.inf, 1), (math.nan, 1)]:
        with pytest.raises(ValueError):
            beta_cdf(0.5, a, b)
    with pytest.raises(ValueError):
        beta_quantile(1.5, 2, 3)


@pytest.mark.spec("Kula SPEC Reputation: score and interval")
@given(
    a=st.floats(min_value=0.5, max_value=2000),
    b=st.floats(min_value=0.5, max_value=2000),
    p=st.floats(min_value=0.001, max_value=0.999),
)
# A steep tail: with x judged to 1e-12, P(X <= x) was 1.4e-8 off.
@example(a=1520.0, b=0.5, p=0.9375)
def test_quantile_inverts_the_cdf(a: float, b: float, p: float) -> None:
    quantile = beta_quantile(p, a, b)
    assert 0.0 <= quantile <= 1.0
    assert beta_cdf(quantile, a, b) == pytest.approx(p, abs=1e-8)
    assert beta_cdf(quantile, a, b) == pytest.approx(1 - beta_cdf(1 - quantile, b, a), abs=1e-10)
