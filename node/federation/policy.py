"""Federation policy: which hosts this node talks to.

Blocks apply at once and everywhere: the inbox refuses the host, deliveries
to it stop, fetches from it are refused, its content is hidden from search.
In allow-list mode only listed hosts are federated with.

The inbox, the one path hit per request by every peer, screens hosts with
:func:`host_screened`, which reads the policy table from memory (:class:`PolicyMemory`) instead of a
row per request. The memory is dropped at once when this process changes a
policy, and read again at most :data:`POLICY_MEMORY_TTL` seconds after
another process did; the inbox therefore checks its batch once more inside
the transaction that stores it (:func:`refused_among`), so nothing from a
host blocked anywhere is stored once the block committed.
"""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from node.errors import Forbidden
from node.services.context import NodeContext
from node.storage.base import Session, Storage
from node.storage.records import HostPolicy

#: Longest a policy change made by another process goes unseen by the screen.
POLICY_MEMORY_TTL = 2.0


# What urlsplit takes as the authority of a plain http(s) IRI: everything up to
# the path, query or fragment. Userinfo, IPv6 brackets and characters urlsplit
# strips before splitting (tab, CR, LF) are left to urlsplit itself.
_PLAIN_AUTHORITY = re.compile(r"https?://([^/?#@\[\]\t\r\n]*)(?:[/?#]|\Z)")


# The inbox asks this several times per activity: of the same actor IRIs
# (cached), and of ids it sees once (the plain match, a fraction of urlsplit).
@lru_cache(maxsize=4096)
def host_of(iri: str) -> str:
    """The authority (host[:port]) of an IRI, lower-cased: what policies name."""
    plain = _PLAIN_AUTHORITY.match(iri)
    if plain is not None:
        return plain.group(1).lower()
    return urlsplit(iri).netloc.lower()


def _decide(ctx: NodeContext, host: str, policy: HostPolicy | None) -> bool:
    """The verdict on another host (callers answer for this node's own host)."""
    if policy is not None and policy.policy == "block":
        return False
    if ctx.settings.federation == "allowlist":
        return policy is not None and policy.policy == "allow"
    return True


async def host_allowed(ctx: NodeContext, session: Session, host: str) -> bool:
    """Whether this node federates with ``host``, read from ``session`` (authoritative)."""
    host = host.lower()
    if host == ctx.settings.public_host.lower():
        return True
    return _decide(ctx, host, await session.get_host_policy(host))


async def require_host_allowed(ctx: NodeContext, host: str) -> None:
    async with ctx.storage.read() as session:
        allowed = await host_allowed(ctx, session, host)
    if not allowed:
        raise Forbidden(f"this node does not federate with {host}")


class PolicyMemory:
    """Every host policy of one storage, read in one query and kept briefly."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._policies: Mapping[str, HostPolicy] | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future[Mapping[str, HostPolicy]] | None = None

    def forget(self) -> None:
        """Drop what is remembered: this process just changed a policy."""
        self._policies = None
        self._reading = None

    async def policies(self) -> Mapping[str, HostPolicy]:
        policies = self._policies
        if policies is not None and time.monotonic() - self._read_at < POLICY_MEMORY_TTL:
            return policies
        # One read for every caller that finds the memory stale at the same time.
        reading = self._reading
        if reading is None:
            reading = self._reading = asyncio.ensure_future(self._read())
        try:
            return await asyncio.shield(reading)
        finally:
            if self._reading is reading and reading.done():
                self._reading = None

    async def _read(self) -> Mapping[str, HostPolicy]:
        read_at = time.monotonic()
        async with self._storage.read() as session:
            rows = await session.list_host_policies()
        policies = {row.host: row for row in rows}
        if self._reading is not None:  # not forgotten while reading
            self._policies, self._read_at = policies, read_at
        return policies


_memories: weakref.WeakKeyDictionary[Storage, PolicyMemory] = weakref.WeakKeyDictionary()


def policy_memory_for(storage: Storage) -> PolicyMemory:
    memory = _memories.get(storage)
    if memory is None:
        memory = _memories[storage] = PolicyMemory(storage)
    return memory


async def host_screened(ctx: NodeContext, host: str) -> bool:
    """Whether ``host`` passes the remembered policies (see the module's notes)."""
    host = host.lower()
    if host == ctx.settings.public_host.lower():
        return True
    policies = await policy_memory_for(ctx.storage).policies()
    return _decide(ctx, host, policies.get(host))


def refused_among(
    ctx: NodeContext, hosts: Iterable[str], policies: Mapping[str, HostPolicy]
) -> set[str]:
    """Which of ``hosts`` (lower-cased) the stored ``policies`` naming them refuse.
    A :data:`~node.storage.records.HostScreen` for ``Storage.store_arrivals``."""
    own = ctx.settings.public_host.lower()
    return {host for host in hosts if host != own and not _decide(ctx, host, policies.get(host))}
