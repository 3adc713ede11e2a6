"""The Beta distribution's CDF and quantiles in pure Python, for reputation intervals.

``protocol/`` carries no numpy or scipy, and a client recomputing a node's
reputation answer should need nothing but the standard library. The
regularised incomplete beta function I_x(a, b) is evaluated from its continued
fraction (DLMF 8.17.22) by the modified Lentz method, on whichever side of the
symmetry I_x(a, b) = 1 - I_{1-x}(b, a) the fraction converges fast; quantiles
invert it with Newton steps kept inside a shrinking bisection bracket.
"""

from __future__ import annotations

import math
from statistics import NormalDist

#: Relative accuracy at which the continued fraction stops.
_FRACTION_EPSILON = 1e-15
#: Stands in for a zero denominator in Lentz's method (the method's usual guard).
_TINY = 1e-300
#: Terms grow like sqrt(max(a, b)); this cap is reached only for absurd parameters.
_MAX_TERMS = 100_000
#: Quantiles are exact to this absolute accuracy on [0, 1].
_QUANTILE_TOLERANCE = 1e-12
_MAX_QUANTILE_STEPS = 200


def _check_shape(a: float, b: float) -> None:
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"Beta shape parameters must be finite and positive, got {a}, {b}")


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """The value of 1 + d1/(1 + d2/(1 + ...)) for I_x(a, b), by modified Lentz."""
    value = 1.0
    numerator_ratio = 1.0  # Lentz's C
    denominator_ratio = 0.0  # Lentz's D
    for term in range(1, _MAX_TERMS + 1):
        m = term // 2
        if term % 2:
            d = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            d = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        denominator_ratio = 1.0 + d * denominator_ratio
        if abs(denominator_ratio) < _TINY:
            denominator_ratio = _TINY
        denominator_ratio = 1.0 / denominator_ratio
        numerator_ratio = 1.0 + d / numerator_ratio
        if abs(numerator_ratio) < _TINY:
            numerator_ratio = _TINY
        step = numerator_ratio * denominator_ratio
        value *= step
        if abs(step - 1.0) < _FRACTION_EPSILON:
            return value
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def beta_cdf(x: float, a: float, b: float) -> float:
    """P(X <= x) for X ~ Beta(a, b): the regularised incomplete beta I_x(a, b)."""
    _check_shape(a, b)
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        # The fraction converges quickly only left of the mean; use the mirror image.
        return 1.0 - beta_cdf(1.0 - x, b, a)
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    return math.exp(log_front) / (a * _continued_fraction(x, a, b))


def _log_pdf(x: float, a: float, b: float) -> float:
    return (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - _log_beta(a, b)


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x in [0, 1] with P(X <= x) = p for X ~ Beta(a, b): to within 1e-12 in
    probability, or as close as floating point comes where the density is so
    steep that neighbouring x differ by more."""
    _check_shape(a, b)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a probability must lie in [0, 1], got {p}")
    if p in (0.0, 1.0):
        return p
    low, high = 0.0, 1.0
    # A normal approximation starts Newton close to the answer for all but tiny shapes.
    mean = a / (a + b)
    spread = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
    x = min(max(mean + NormalDist().inv_cdf(p) * spread, 1e-6), 1.0 - 1e-6)
    for _ in range(_MAX_QUANTILE_STEPS):
        error = beta_cdf(x, a, b) - p
        # Judged in probability, not in x: near 0 or 1 with a small shape the
        # density passes 10^4, and x within 1e-12 left P off by more than 1e-8.
        if abs(error) <= _QUANTILE_TOLERANCE:
            return x
        if error < 0.0:
            low = x
        else:
            high = x
        log_density = _log_pdf(x, a, b)
        candidate = x - error * math.exp(-log_density) if log_density > -700.0 else -1.0
        if not low < candidate < high:
            candidate = (low + high) / 2.0
        if candidate in (low, high, x):  # no float lies between: x is as close as it gets
            return x
        x = candidate
    return x
