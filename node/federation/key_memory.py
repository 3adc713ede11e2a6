"""Remote keys that resolved, held in memory so the inbox's hot path reads no
database row and parses no key to verify a signature.

Each entry lives :data:`TTL` seconds, never past the stored actor's expiry.
A fetch of the actor in this process replaces its keys at once; a fetch in
another process (a second ``kula serve``) reaches this one within the TTL, or
at the first signature the remembered key fails to verify, since
:func:`protocol.httpsig.verify_request` then asks for a refresh. Blocked
hosts are refused before any key is looked at, so a remembered key never
outlives a block.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from node.storage.base import Storage
from node.storage.records import RemoteActor
from protocol.httpsig import PublicKey, VerificationKey

#: How long a resolved key is served from memory before storage is read again.
TTL = 60.0
#: Most keys remembered per storage; the oldest go first.
SIZE = 10_000


@dataclass(frozen=True)
class KnownKey:
    actor: RemoteActor
    key: PublicKey | VerificationKey
    #: Wall-clock time (``time.time()``) after which storage is asked again.
    until: float


class KeyMemory:
    def __init__(self) -> None:
        self._keys: dict[str, KnownKey] = {}

    def get(self, key_id: str) -> KnownKey | None:
        known = self._keys.get(key_id)
        if known is None or known.until <= time.time():
            return None
        return known

    def remember(
        self, key_id: str, actor: RemoteActor, key: PublicKey | VerificationKey,
        actor_expires: datetime,
    ) -> None:
        if key_id not in self._keys and len(self._keys) >= SIZE:
            del self._keys[next(iter(self._keys))]
        until = min(time.time() + TTL, actor_expires.timestamp())
        self._keys[key_id] = KnownKey(actor, key, until)

    def forget_actor(self, iri: str) -> None:
        """Drop every key of ``iri`` (its document was fetched again)."""
        for key_id in [key_id for key_id, known in self._keys.items() if known.actor.iri == iri]:
            del self._keys[key_id]


_memories: weakref.WeakKeyDictionary[Storage, KeyMemory] = weakref.WeakKeyDictionary()


def key_memory_for(storage: Storage) -> KeyMemory:
    """The memory of keys resolved through ``storage`` in this process."""
    memory = _memories.get(storage)
    if memory is None:
        memory = _memories[storage] = KeyMemory()
    return memory
