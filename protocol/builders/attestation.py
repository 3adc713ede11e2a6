"""Reputation attestations: W3C Verifiable Credentials 2.0 about a completed exchange.

Revision design. A credential, once issued (and usually signed), never
changes. To revise a rating its issuer issues a new credential with a new
``id``, a later ``validFrom`` and ``supersedes`` = the earlier credential's id;
a receiver keeps, per (issuer, agreement), the attestation with the latest
``validFrom`` that no other attestation from the same issuer supersedes, and
ignores a ``supersedes`` that points at another issuer's credential. To
withdraw an attestation altogether the issuer sends ``Delete`` of its id.
A new id (rather than re-using one with a newer ``validFrom``) keeps every
signed version addressable, so old signatures still verify.
"""

from __future__ import annotations

from protocol.builders._common import JsonDict, Timestamp, drop_unset, timestamp
from protocol.namespaces import KULA_CREDENTIAL_CONTEXT
from protocol.vocab import ATTESTATION_ROLES, ATTESTATION_TYPE, RATING_MAX, RATING_MIN


def exchange_attestation(
    *,
    id: str,
    issuer: str,
    subject: str,
    agreement: str,
    subject_role: str,
    issuer_role: str,
    rating: int,
    comment: str | None = None,
    valid_from: Timestamp = None,
    supersedes: str | None = None,
) -> JsonDict:
    """One member's rating of the other party to a completed Agreement.

    ``issuer`` is the attesting member's actor id and ``subject`` the
    counterparty's; roles come from :data:`protocol.vocab.ATTESTATION_ROLES`.
    """
    if isinstance(rating, bool) or not RATING_MIN <= rating <= RATING_MAX:
        raise ValueError(f"rating must be an integer from {RATING_MIN} to {RATING_MAX}")
    for role in (subject_role, issuer_role):
        if role not in ATTESTATION_ROLES:
            raise ValueError(f"unknown exchange role {role!r}")
    if subject == issuer:
        raise ValueError("a member cannot attest an exchange with themselves")
    return drop_unset({
        "@context": list(KULA_CREDENTIAL_CONTEXT),
        "id": id,
        "type": ["VerifiableCredential", ATTESTATION_TYPE],
        "issuer": issuer,
        "validFrom": timestamp(valid_from),
        "supersedes": supersedes,
        "credentialSubject": drop_unset({
            "id": subject,
            "agreement": agreement,
            "subjectRole": subject_role,
            "issuerRole": issuer_role,
            "rating": rating,
            "comment": comment,
        }),
    })
