"""In-process token buckets for login, registration and writes.

Each process keeps its own buckets: with several web processes the effective
limit is per process, which still stops brute force at a useful rate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from node.errors import RateLimited


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow ``per_minute`` events per key, with bursts up to the same number."""

    def __init__(self, per_minute: int, *, max_keys: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str, *, now: float | None = None) -> None:
        """Spend one token for ``key`` or raise :class:`RateLimited` with a retry hint."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._evict(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            retry_after = max(1, int((1.0 - bucket.tokens) / self.rate + 0.999))
            raise RateLimited(
                f"too many requests; try again in {retry_after} s", retry_after=retry_after
            )
        bucket.tokens -= 1.0

    def _evict(self, now: float) -> None:
        full = [key for key, b in self._buckets.items() if now - b.updated > 60.0]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]
