"""When to retry a delivery and when to give up: pure decisions, no I/O.

:class:`DeliveryPolicy` turns an attempt's result into the next state of its
row; :class:`CircuitBreaker` remembers, per host, that recent attempts failed,
so a dead host's rows wait instead of holding the worker. Time comes in as an
argument and randomness as a :class:`random.Random`, so tests decide both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

DELIVERED = "delivered"
RETRYING = "retrying"
FAILED = "failed"

#: Statuses that say "later" and may say when (RFC 9110 §10.2.3).
_RETRY_AFTER_STATUSES = frozenset({429, 503})
#: 4xx statuses that describe a passing condition rather than a refusal.
_TRANSIENT_CLIENT_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Verdict:
    """What an attempt means for its row.

    ``retry_after`` is set when the receiver named the time to come back; it
    replaces the policy's own backoff.
    """

    state: str
    reason: str
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class DeliveryPolicy:
    """Backoff, give-up age and the reading of responses."""

    #: Delay before the first retry; each further failure doubles it.
    base_delay: timedelta = timedelta(seconds=30)
    #: Longest single wait between two attempts.
    max_delay: timedelta = timedelta(hours=12)
    #: A row this old (since it was queued) is failed instead of retried.
    max_age: timedelta = timedelta(days=5)
    #: Bounds on a receiver's ``Retry-After``: zero would spin, days would
    #: outlive ``max_age``.
    min_retry_after: timedelta = timedelta(seconds=1)
    max_retry_after: timedelta = timedelta(hours=24)

    def backoff(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after ``attempts`` failed attempts (1 for the first failure).

        Exponential with "equal jitter": half the step is fixed and half is
        random, so retries spread out yet never come back almost at once.
        """
        exponent = min(max(attempts, 1) - 1, 32)
        step = min(self.base_delay * (2**exponent), self.max_delay)
        half = step.total_seconds() / 2
        return timedelta(seconds=half + rng.uniform(0, half))

    def deadline(self, created_at: datetime) -> datetime:
        """After this moment the row is failed rather than tried again."""
        return created_at + self.max_age

    def expired(self, created_at: datetime, now: datetime) -> bool:
        return now >= self.deadline(created_at)

    def classify(self, status: int, retry_after: str | None = None, *, now: datetime) -> Verdict:
        """Read a response status (and its ``Retry-After`` value) as delivered,
        retry or failed."""
        if 200 <= status < 300:
            return Verdict(DELIVERED, f"HTTP {status}")
        if status == 409:
            # An inbox answers 409 to an activity id it already holds (a resend
            # after a crash, say): the receiver has it, which is what delivery means.
            return Verdict(DELIVERED, "HTTP 409: the receiver already had it")
        if status in _RETRY_AFTER_STATUSES:
            return Verdict(RETRYING, f"HTTP {status}", self.parse_retry_after(retry_after, now))
        if status in _TRANSIENT_CLIENT_STATUSES or status >= 500:
            return Verdict(RETRYING, f"HTTP {status}")
        if 400 <= status < 500:
            # The receiver understood and refused (gone, forbidden, too large…):
            # sending the same bytes again cannot change its answer.
            return Verdict(FAILED, f"HTTP {status}: refused by the receiver")
        # 1xx and 3xx: a signed POST is not re-aimed at a redirect target, but
        # a misconfigured inbox is often fixed, so this waits for max_age.
        return Verdict(RETRYING, f"HTTP {status}: unexpected status")

    def parse_retry_after(self, value: str | None, now: datetime) -> timedelta | None:
        """``Retry-After`` as a wait from ``now``: delta-seconds or an HTTP-date,
        clamped to the policy's bounds; None when absent or unreadable."""
        if value is None:
            return None
        text = value.strip()
        if text.isdigit():
            wait = timedelta(seconds=int(text))
        else:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            wait = moment - now
        return min(max(wait, self.min_retry_after), self.max_retry_after)


@dataclass
class CircuitBreaker:
    """One host's breaker: closed, open until a moment, or half-open.

    It opens after ``threshold`` consecutive transient failures, for a
    cool-down that doubles each time a probe fails again (up to
    ``max_cooldown``). Once the cool-down has passed, exactly one request is
    let through as a probe; its result closes or reopens the breaker. Rows
    that come while the probe is in flight wait ``probe_wait``.
    """

    threshold: int = 5
    base_cooldown: timedelta = timedelta(minutes=1)
    max_cooldown: timedelta = timedelta(hours=1)
    probe_wait: timedelta = timedelta(seconds=30)
    consecutive_failures: int = 0
    open_until: datetime | None = None
    cooldown: timedelta = field(default=timedelta(0))
    #: When the probe in flight was let through; a probe that never reports
    #: (its worker died) stops blocking after ``probe_wait``.
    probe_started: datetime | None = None

    def admit(self, now: datetime) -> datetime | None:
        """None to go ahead; otherwise the moment to try again."""
        if self.open_until is None:
            return None
        if now < self.open_until:
            return self.open_until
        if self.probe_started is not None and now < self.probe_started + self.probe_wait:
            return now + self.probe_wait
        self.probe_started = now
        return None

    def is_open(self, now: datetime) -> bool:
        """Whether rows for the host are being held back at ``now``."""
        return self.open_until is not None and now < self.open_until

    def record_success(self) -> None:
        """The host answered: close the breaker and forget its history."""
        self.consecutive_failures = 0
        self.open_until = None
        self.probe_started = None
        self.cooldown = timedelta(0)

    def record_failure(self, now: datetime) -> None:
        """A transient failure (network error, timeout, 5xx, 429)."""
        self.consecutive_failures += 1
        if self.open_until is not None and now < self.open_until:
            # Requests already in flight when it opened: one outage, one cool-down.
            return
        probing = self.probe_started is not None
        self.probe_started = None
        if probing or self.consecutive_failures >= self.threshold:
            grown = self.cooldown * 2 if self.cooldown else self.base_cooldown
            self.cooldown = min(grown, self.max_cooldown)
            self.open_until = now + self.cooldown

    def pause_until(self, moment: datetime) -> None:
        """The host asked for a pause (``Retry-After``): hold every row until then."""
        if self.open_until is None or moment > self.open_until:
            self.open_until = moment

    def abandon_probe(self) -> None:
        """The probe ended without an answer from the host (a local error)."""
        self.probe_started = None


@dataclass
class HostBreakers:
    """The per-process set of breakers, one per host, made on first use."""

    threshold: int = 5
    base_cooldown: timedelta = timedelta(minutes=1)
    max_cooldown: timedelta = timedelta(hours=1)
    probe_wait: timedelta = timedelta(seconds=30)
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

    def for_host(self, host: str) -> CircuitBreaker:
        breaker = self.breakers.get(host)
        if breaker is None:
            breaker = CircuitBreaker(
                threshold=self.threshold, base_cooldown=self.base_cooldown,
                max_cooldown=self.max_cooldown, probe_wait=self.probe_wait,
            )
            self.breakers[host] = breaker
        return breaker
