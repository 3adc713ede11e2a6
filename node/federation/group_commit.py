"""Group commit: writes that arrive together share one transaction, so one
commit (one fsync) makes them all durable, and a batch writer can store them
in a few multi-row statements instead of a few statements each. The batch
writer runs the transaction itself, so a backend can write it its own way
(``Storage.store_arrivals``).

A caller queues its item and awaits its own future. One writer task per
committer takes every queued item (up to :data:`MAX_BATCH`), commits them,
resolves their futures, and goes on while items keep arriving; it ends when
the queue is empty and the next caller starts another. Every caller's
``await`` returns only after the transaction holding its item committed, so
the inbox still answers 202 only for what is durable. Under light load a
batch is one item and nothing waits; under heavy load batches grow with the
load, and all callers of a batch wake together.

If a batch fails (a bug, or the database refusing), each of its items is
written again in a transaction of its own, so one bad item never costs the
others theirs.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from node.errors import StorageUnavailable
from node.storage.base import Storage

Item = TypeVar("Item")
Result = TypeVar("Result")
#: Writes a batch in one transaction of its own (all or nothing); returns one
#: result per item, in order.
BatchWriter = Callable[[list[Item]], Awaitable[Sequence[Result]]]

#: Most items committed at once; bounds how long one transaction holds the writer.
MAX_BATCH = 256


class GroupCommit(Generic[Item, Result]):
    """Batches items for ``write_batch``; see :func:`group_commit_for` to share one."""

    def __init__(self, write_batch: BatchWriter[Item, Result]) -> None:
        self.write_batch = write_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write ``item`` with whatever else is queued; return its result once
        the transaction committed (or raise the error that stopped it)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None:
            # A task of its own, so a cancelled caller never strands the others' items.
            self._writer = asyncio.ensure_future(self._write_pending())
        return await future

    async def _write_pending(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                try:
                    await self._commit_batch(batch)
                finally:
                    # Interrupted (the loop shutting down): whether the batch
                    # committed is unknown, so the sender should retry.
                    _fail_unresolved(batch)
        finally:
            self._writer = None
            _fail_unresolved(self._pending)
            self._pending = []

    async def _commit_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = list(await self.write_batch(items))
            if len(results) != len(items):
                raise RuntimeError("a batch writer returned the wrong number of results")
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            for entry in batch:
                await self._commit_batch([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # its caller may have been cancelled
                future.set_result(result)


def _fail_unresolved(entries: list[tuple[Any, asyncio.Future[Any]]]) -> None:
    for _, future in entries:
        if not future.done():
            future.set_exception(StorageUnavailable("the write was interrupted"))


_committers: weakref.WeakKeyDictionary[Storage, dict[str, GroupCommit[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


def group_commit_for(
    storage: Storage, name: str, write_batch: BatchWriter[Item, Result]
) -> GroupCommit[Item, Result]:
    """The process-wide :class:`GroupCommit` called ``name`` for ``storage``."""
    by_name = _committers.setdefault(storage, {})
    committer = by_name.get(name)
    if committer is None:
        committer = by_name[name] = GroupCommit(write_batch)
    return committer
