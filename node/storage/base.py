"""The one storage interface. Services talk to a :class:`Storage` and the
:class:`Session` it hands out; only the backends (``sqlite``, later
``postgresql``) know a driver.

Writes that belong together run in one ``transaction()``: it commits when the
block ends and rolls back on any exception, so a crash never leaves half a
change behind.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from node.storage.queries import (
    ActivityQueries,
    AttestationQueries,
    ExchangeQueries,
    ImageQueries,
    InviteQueries,
    KeyQueries,
    ListingQueries,
    MemberQueries,
    QueueQueries,
    RemoteQueries,
    ReplyQueries,
    TokenQueries,
)
from node.storage.queries.community import CommunityQueries
from node.storage.queries.credential_tombstones import CredentialTombstoneQueries
from node.storage.queries.pools import PoolQueries
from node.storage.queries.questions import QuestionQueries
from node.storage.queries.reports import ReportQueries
from node.storage.queries.vouches import VouchQueries
from node.storage.records import ArrivingActivity, HostScreen, SearchHit, SearchQuery

Row = Mapping[str, Any]
ProgressCallback = Callable[[int, int], None]


class Session(
    KeyQueries,
    MemberQueries,
    TokenQueries,
    InviteQueries,
    ImageQueries,
    ListingQueries,
    ActivityQueries,
    RemoteQueries,
    QueueQueries,
    ReplyQueries,
    ExchangeQueries,
    AttestationQueries,
    PoolQueries,
    VouchQueries,
    CredentialTombstoneQueries,
    QuestionQueries,
    CommunityQueries,
    ReportQueries,
    ABC,
):
    """Every query the node makes. Portable SQL lives in the query mixins; a
    backend supplies the four primitives and its own full-text search."""

    @abstractmethod
    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    @abstractmethod
    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement and return the number of rows it changed."""

    @abstractmethod
    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT and return the new row's integer key."""

    # Full-text search differs per backend (FTS5, tsvector).
    @abstractmethod
    async def index_listing(self, seq: int, title: str, content: str, categories: str) -> None: ...

    @abstractmethod
    async def unindex_listing(self, seq: int) -> None: ...

    @abstractmethod
    async def search_listings(self, query: SearchQuery) -> list[SearchHit]: ...

    @abstractmethod
    async def serialize_on(self, key: str) -> None:
        """In a transaction: wait until no other transaction holds ``key``, then
        hold it until this one ends. For writes that must see each other's
        effects though neither has a row to lock yet (a credential and a Delete
        that overtook it)."""


class Storage(ABC):
    """A database the node keeps its state in."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """A read-write session that commits on success and rolls back on error."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Session]:
        """A read-only session."""

    @abstractmethod
    async def migrate(self) -> list[int]:
        """Apply pending migrations in order; return the versions applied."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""

    @abstractmethod
    async def backup_to(self, destination: Path, progress: ProgressCallback | None = None) -> None:
        """Write a consistent snapshot of the live database to ``destination``."""

    async def store_arrivals(
        self, arrivals: Sequence[ArrivingActivity], screen: HostScreen, job_kind: str
    ) -> list[int | None]:
        """Store a batch of inbound activities in one transaction: see
        :meth:`~node.storage.queries.queue.QueueQueries.store_arrivals`. The
        inbox's hottest write; a backend may do it in fewer trips."""
        async with self.transaction() as session:
            return await session.store_arrivals(arrivals, screen, job_kind)

    async def wait_for_work(self, at_most: float) -> None:
        """Return once jobs or deliveries may have been queued, or after at most
        ``at_most`` seconds. Only a hint for idle workers, which query for their
        work either way; backends that cannot hear other processes return
        sooner, so those get polled. This default just waits."""
        await asyncio.sleep(at_most)


