"""A credential's ``Delete`` that overtakes its ``Create`` (SPEC §11.3, §11.4).

Deliveries run concurrently and are retried, so the revocation of a vouch or
an attestation can be processed before the credential itself. The deletion is
remembered, as its actor's word about an id of the actor's own origin (the
general Delete rules), and the credential that arrives later is kept as
revoked, exactly as if the two had come in order. Each remembered deletion
applies only to a credential whose issuer is that same actor, so an actor can
only ever affect its own credentials.

With several workers on PostgreSQL the Create and the Delete can be processed
at the same instant, each transaction blind to the other's uncommitted rows.
Both take ``Session.serialize_on(credential id)`` first, so the later one sees
what the earlier one committed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from node.storage.base import Session
from node.timeutil import to_text, utc_now
from protocol.vocab import ATTESTATION_TYPE, VOUCH_TYPE

#: Far beyond how long a retried delivery lives (5 days): a credential this
#: late is not coming, and an entry kept longer would only take up room.
RETENTION = timedelta(days=30)

_CREDENTIAL_TYPES = frozenset({"VerifiableCredential", VOUCH_TYPE, ATTESTATION_TYPE})


def may_name_a_credential(deleted: Any) -> bool:
    """A bare id may name anything; a Tombstone says what it stood for, so a
    deleted listing or note is not remembered."""
    if not isinstance(deleted, dict) or "formerType" not in deleted:
        return True
    former = deleted["formerType"]
    kinds = former if isinstance(former, list) else [former]
    return any(kind in _CREDENTIAL_TYPES for kind in kinds)


async def remember(session: Session, iri: str, actor: str) -> None:
    """``actor`` deleted ``iri``, which is not held here (yet)."""
    now = utc_now()
    await session.remember_credential_deletion(
        iri, actor, to_text(now), forget_before=to_text(now - RETENTION)
    )
    # The vouch may have been stored since the vouch handler looked for it.
    await session.revoke_vouch(iri, actor, to_text(now))


async def revoked_before_arrival(session: Session, iri: str, issuer: str) -> str | None:
    """When ``issuer`` deleted the credential ``iri`` before it arrived, if it did."""
    return await session.take_credential_deletion(iri, issuer)
