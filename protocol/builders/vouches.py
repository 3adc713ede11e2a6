"""Vouches: W3C Verifiable Credentials 2.0 by which one member says "I know this person".

A vouch is distinct from an exchange attestation: it rates nothing and names
no agreement. Its ``credentialSubject`` is the vouched-for actor and carries
``knownBy`` = the issuer, so the claim reads on its own ("the subject is known
by the issuer"). It never changes once signed; the issuer revokes it with a
``Delete`` of its id, and a later vouch for the same person is a new credential.
"""

from __future__ import annotations

from protocol.builders._common import JsonDict, Timestamp, timestamp
from protocol.namespaces import KULA_CREDENTIAL_CONTEXT
from protocol.vocab import VOUCH_TYPE


def vouch_credential(
    *, id: str, issuer: str, subject: str, valid_from: Timestamp = None
) -> JsonDict:
    """``issuer`` vouches that they know ``subject`` (both actor ids), from ``valid_from``."""
    if subject == issuer:
        raise ValueError("a member cannot vouch for themselves")
    return {
        "@context": list(KULA_CREDENTIAL_CONTEXT),
        "id": id,
        "type": ["VerifiableCredential", VOUCH_TYPE],
        "issuer": issuer,
        "validFrom": timestamp(valid_from),
        "credentialSubject": {"id": subject, "knownBy": issuer},
    }
