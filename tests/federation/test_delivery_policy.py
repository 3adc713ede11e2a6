"""The delivery policy and circuit breaker as pure functions of time and chance."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from node.federation.delivery_policy import (
    DELIVERED,
    FAILED,
    RETRYING,
    CircuitBreaker,
    DeliveryPolicy,
    HostBreakers,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
POLICY = DeliveryPolicy()


@pytest.mark.spec("Kula federation: delivery backoff")
def test_backoff_doubles_with_jitter_inside_each_step() -> None:
    rng = random.Random(7)
    for attempts in range(1, 12):
        step = min(30 * 2 ** (attempts - 1), 12 * 3600)
        for _ in range(50):
            wait = POLICY.backoff(attempts, rng).total_seconds()
            assert step / 2 <= wait <= step, (attempts, wait)


@pytest.mark.spec("Kula federation: delivery backoff")
def test_backoff_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    waits = {POLICY.backoff(40, rng) for _ in range(20)}
    assert all(timedelta(hours=6) <= wait <= timedelta(hours=12) for wait in waits)
    # Jitter: twenty draws do not collapse onto one value.
    assert len(waits) > 10


@pytest.mark.spec("Kula federation: delivery backoff")
def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    first = [POLICY.backoff(n, random.Random(3)) for n in range(1, 6)]
    second = [POLICY.backoff(n, random.Random(3)) for n in range(1, 6)]
    assert first == second


@pytest.mark.spec("Kula federation: delivery backoff")
def test_retries_span_several_days_before_max_age() -> None:
    rng = random.Random(11)
    elapsed, attempts = timedelta(0), 0
    while elapsed < POLICY.max_age:
        attempts += 1
        elapsed += POLICY.backoff(attempts, rng)
    # Days of retrying, yet not thousands of requests to a dead inbox.
    assert 15 <= attempts <= 30


@pytest.mark.spec("Kula federation: delivery max age")
def test_deadline_is_max_age_after_queueing() -> None:
    assert POLICY.deadline(NOW) == NOW + timedelta(days=5)
    assert not POLICY.expired(NOW, NOW + timedelta(days=5) - timedelta(seconds=1))
    assert POLICY.expired(NOW, NOW + timedelta(days=5))


@pytest.mark.spec("RFC 9110 §15.3")
@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_success_statuses_are_delivered(status: int) -> None:
    assert POLICY.classify(status, now=NOW).state == DELIVERED


@pytest.mark.spec("RFC 9110 §15.5")
@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 410, 413, 415, 422])
def test_refusals_fail_permanently(status: int) -> None:
    verdict = POLICY.classify(status, now=NOW)
    assert verdict.state == FAILED
    assert str(status) in verdict.reason


@pytest.mark.spec("RFC 9110 §15.6")
@pytest.mark.parametrize("status", [408, 425, 500, 502, 504, 520, 301, 302])
def test_passing_conditions_are_retried_with_backoff(status: int) -> None:
    verdict = POLICY.classify(status, now=NOW)
    assert verdict.state == RETRYING
    assert verdict.retry_after is None


@pytest.mark.spec("RFC 9110 §10.2.3")
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_delta_seconds_is_honoured(status: int) -> None:
    verdict = POLICY.classify(status, "120", now=NOW)
    assert verdict.state == RETRYING
    assert verdict.retry_after == timedelta(seconds=120)


@pytest.mark.spec("RFC 9110 §10.2.3")
def test_retry_after_http_date_is_honoured() -> None:
    value = format_datetime(NOW + timedelta(minutes=7), usegmt=True)
    assert POLICY.classify(503, value, now=NOW).retry_after == timedelta(minutes=7)


@pytest.mark.spec("RFC 9110 §5.6.7")
def test_retry_after_obsolete_date_form_is_read() -> None:
    # RFC 850 form, which recipients must still accept.
    verdict = POLICY.classify(429, "Saturday, 01-Mar-25 12:05:00 GMT", now=NOW)
    assert verdict.retry_after == timedelta(minutes=5)


@pytest.mark.spec("RFC 9110 §10.2.3")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", timedelta(seconds=1)),
        ("9999999", timedelta(hours=24)),
        ("Sat, 01 Mar 2025 11:00:00 GMT", timedelta(seconds=1)),
        ("Tue, 01 Apr 2025 12:00:00 GMT", timedelta(hours=24)),
    ],
)
def test_retry_after_is_clamped(value: str, expected: timedelta) -> None:
    assert POLICY.classify(503, value, now=NOW).retry_after == expected


@pytest.mark.spec("RFC 9110 §10.2.3")
@pytest.mark.parametrize("value", [None, "", "soon", "-5", "12.5"])
def test_unreadable_retry_after_falls_back_to_backoff(value: str | None) -> None:
    verdict = POLICY.classify(429, value, now=NOW)
    assert verdict.state == RETRYING
    assert verdict.retry_after is None


def _fail(breaker: CircuitBreaker, times: int, now: datetime) -> None:
    for _ in range(times):
        breaker.record_failure(now)


@pytest.mark.spec("Kula federation: circuit breaker")
def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(threshold=3, base_cooldown=timedelta(minutes=1))
    _fail(breaker, 2, NOW)
    assert breaker.admit(NOW) is None
    breaker.record_failure(NOW)
    assert breaker.is_open(NOW)
    assert breaker.admit(NOW + timedelta(seconds=59)) == NOW + timedelta(minutes=1)


@pytest.mark.spec("Kula federation: circuit breaker")
def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(threshold=3)
    _fail(breaker, 2, NOW)
    breaker.record_success()
    _fail(breaker, 2, NOW)
    assert not breaker.is_open(NOW)


@pytest.mark.spec("Kula federation: circuit breaker")
def test_half_open_lets_exactly_one_probe_through() -> None:
    breaker = CircuitBreaker(threshold=1, base_cooldown=timedelta(minutes=1))
    breaker.record_failure(NOW)
    later = NOW + timedelta(minutes=1)
    assert breaker.admit(later) is None
    assert breaker.admit(later) == later + breaker.probe_wait
    breaker.record_success()
    assert breaker.admit(later) is None
    assert breaker.admit(later) is None


@pytest.mark.spec("Kula federation: circuit breaker")
def test_failed_probe_reopens_with_a_longer_cooldown() -> None:
    breaker = CircuitBreaker(
        threshold=1, base_cooldown=timedelta(minutes=1), max_cooldown=timedelta(minutes=3)
    )
    moment = NOW
    breaker.record_failure(moment)
    expected = [timedelta(minutes=2), timedelta(minutes=3), timedelta(minutes=3)]
    for cooldown in expected:
        moment = breaker.open_until
        assert moment is not None
        assert breaker.admit(moment) is None
        breaker.record_failure(moment)
        assert breaker.open_until == moment + cooldown


@pytest.mark.spec("Kula federation: circuit breaker")
def test_failures_in_flight_when_it_opened_do_not_extend_the_cooldown() -> None:
    breaker = CircuitBreaker(threshold=2, base_cooldown=timedelta(minutes=1))
    _fail(breaker, 6, NOW)
    assert breaker.open_until == NOW + timedelta(minutes=1)


@pytest.mark.spec("Kula federation: circuit breaker")
def test_a_probe_that_never_reports_stops_blocking() -> None:
    breaker = CircuitBreaker(threshold=1, base_cooldown=timedelta(minutes=1))
    breaker.record_failure(NOW)
    half_open = NOW + timedelta(minutes=1)
    assert breaker.admit(half_open) is None
    assert breaker.admit(half_open + breaker.probe_wait) is None


@pytest.mark.spec("Kula federation: circuit breaker")
def test_an_abandoned_probe_frees_the_slot_at_once() -> None:
    breaker = CircuitBreaker(threshold=1)
    breaker.record_failure(NOW)
    half_open = NOW + breaker.cooldown
    assert breaker.admit(half_open) is None
    breaker.abandon_probe()
    assert breaker.admit(half_open) is None


@pytest.mark.spec("RFC 9110 §10.2.3")
def test_pause_holds_the_host_until_the_named_moment() -> None:
    breaker = CircuitBreaker()
    breaker.pause_until(NOW + timedelta(minutes=2))
    assert breaker.admit(NOW) == NOW + timedelta(minutes=2)
    breaker.pause_until(NOW + timedelta(minutes=1))
    assert breaker.admit(NOW) == NOW + timedelta(minutes=2)


@pytest.mark.spec("Kula federation: circuit breaker")
def test_hosts_have_independent_breakers() -> None:
    breakers = HostBreakers(threshold=1)
    breakers.for_host("dead.example").record_failure(NOW)
    assert breakers.for_host("dead.example").is_open(NOW)
    assert breakers.for_host("alive.example").admit(NOW) is None
    assert breakers.for_host("dead.example") is breakers.for_host("dead.example")
