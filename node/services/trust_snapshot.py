"""One computed trust graph per process, kept while its inputs stand still.

Reputation is computed over every attestation and vouch the node holds
(``protocol.reputation.compute_all``): 10,000 members with 100,000
attestations take seconds. Pages of listings and profiles ask for it on every
view, so each process keeps the last graph it computed and uses it while
the storage's reputation inputs version (moved by triggers on attestations,
vouches and members, in the writer's own transaction, whichever process it
runs in) has not changed, and for at most :data:`MAX_AGE` (scores decay with
time). Concurrent readers share one computation, which runs in a thread so
the event loop keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from node.storage.base import Storage
from protocol.reputation import Reputation, ReputationParams, Vouch

T = TypeVar("T")

#: How long a graph is used at most: decay moves scores a little every hour.
MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class _Kept(Generic[T]):
    version: int
    built_at: datetime
    value: T


class VersionedMemo(Generic[T]):
    """The last value built, reused while its inputs' version is unchanged and
    it is younger than ``max_age``; one build at a time."""

    def __init__(self, max_age: timedelta = MAX_AGE) -> None:
        self.max_age = max_age
        #: How many times a value was built (tests and metrics read it).
        self.builds = 0
        self._kept: _Kept[T] | None = None
        self._lock = asyncio.Lock()

    async def get(
        self,
        read_version: Callable[[], Awaitable[int]],
        now: Callable[[], datetime],
        build: Callable[[], Awaitable[T]],
    ) -> T:
        """The value for the current version; ``build`` it when there is none.

        The version is read before building, so a change made while building
        leaves the kept value marked older and the next call builds again.
        """
        version = await read_version()
        kept = self._usable(version, now())
        if kept is not None:
            return kept.value
        async with self._lock:
            # Someone may have built it while this call waited for the lock.
            version = await read_version()
            kept = self._usable(version, now())
            if kept is not None:
                return kept.value
            built_at = now()
            value = await build()
            self.builds += 1
            self._kept = _Kept(version, built_at, value)
            return value

    def _usable(self, version: int, now: datetime) -> _Kept[T] | None:
        kept = self._kept
        if kept is None or kept.version != version:
            return None
        if not timedelta(0) <= now - kept.built_at <= self.max_age:
            return None
        return kept


class MemoShelf(Generic[T]):
    """A :class:`VersionedMemo` per key, the least recently used dropped beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._memos: OrderedDict[Hashable, VersionedMemo[T]] = OrderedDict()

    def memo(self, key: Hashable) -> VersionedMemo[T]:
        memo = self._memos.pop(key, None) or VersionedMemo()
        self._memos[key] = memo
        while len(self._memos) > self.size:
            self._memos.popitem(last=False)
        return memo


@dataclass(frozen=True)
class TrustGraph:
    """Every actor's reputation at ``now``, and what it was computed from."""

    every: dict[str, Reputation]
    seeds: frozenset[str]
    vouches: list[Vouch]
    now: datetime
    params: ReputationParams


_memos: weakref.WeakKeyDictionary[Storage, VersionedMemo[TrustGraph]] = (
    weakref.WeakKeyDictionary()
)


def trust_memo_for(storage: Storage) -> VersionedMemo[TrustGraph]:
    """The process-wide memo of ``storage``'s trust graph."""
    memo = _memos.get(storage)
    if memo is None:
        memo = _memos[storage] = VersionedMemo()
    return memo
