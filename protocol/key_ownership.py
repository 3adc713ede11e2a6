"""Who may sign: tie an object proof to its author's own key (FEP-521a, FEP-8b32).

A proof that verifies only says that *some* key signed the document. A
receiver also needs to know that the key belongs to the document's author:

1. :func:`check_key_ownership`: the author's actor document lists the
   verification method under ``assertionMethod`` as a ``Multikey`` it controls,
   and the key's id is a fragment of the actor id or shares its origin;
2. :func:`proof_owner_matches`: that actor is the document's author (its
   ``actor``, ``attributedTo`` or ``issuer``), see :func:`document_authors`;
3. the proof itself verifies (:func:`protocol.proofs.verify_object`).

:func:`verify_authored_object` runs all three. Fetching the actor document is
the caller's business: these functions take it as a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from protocol.errors import KeyFormatError
from protocol.multikey import multikey_decode
from protocol.proofs import (
    DEFAULT_PORTS,
    ProofReason,
    ProofRejected,
    checked_verification_method,
    proofs_of,
    verify_object,
)

__all__ = [
    "AUTHOR_FIELDS",
    "check_key_ownership",
    "document_authors",
    "key_belongs_to",
    "proof_owner_matches",
    "proof_verification_method",
    "proof_verification_methods",
    "verify_authored_object",
]

#: Fields that name who wrote a document, by kind: activity, object, credential.
AUTHOR_FIELDS = ("actor", "attributedTo", "issuer")


def proof_verification_method(document: Mapping[str, Any]) -> str:
    """Return the ``verificationMethod`` of the single proof on ``document``.

    It is checked to be an http(s) URL or a DID URL; raises
    :class:`~protocol.proofs.ProofRejected`, also when there is not exactly one proof.
    """
    proofs = proofs_of(document)
    if len(proofs) != 1:
        raise ProofRejected(ProofReason.MULTIPLE, f"expected one proof, found {len(proofs)}")
    return checked_verification_method(proofs[0].get("verificationMethod"))


def proof_verification_methods(document: Mapping[str, Any]) -> list[str]:
    """Return the ``verificationMethod`` of every proof on ``document``, in order."""
    return [checked_verification_method(p.get("verificationMethod")) for p in proofs_of(document)]


def check_key_ownership(
    verification_method: str,
    controller_document: Mapping[str, Any],
    *,
    relationship: str = "assertionMethod",
) -> Ed25519PublicKey:
    """Return the Ed25519 key ``controller_document`` lists as ``verification_method``.

    ``controller_document`` is the signer's actor document (FEP-521a). The
    Multikey entry under ``relationship`` whose ``id`` is the verification
    method must name the actor as its ``controller``, and its id must be a
    fragment of the actor id or share the actor's origin. Raises
    :class:`~protocol.proofs.ProofRejected` otherwise.
    """
    checked_verification_method(verification_method)
    actor_id = controller_document.get("id")
    if not isinstance(actor_id, str):
        raise ProofRejected(ProofReason.MALFORMED_CONTROLLER, "controller document has no id")
    entries = controller_document.get(relationship)
    entries = entries if isinstance(entries, list) else [entries]
    matches = [e for e in entries if isinstance(e, dict) and e.get("id") == verification_method]
    if not matches:
        raise ProofRejected(
            ProofReason.KEY_NOT_FOUND, f"{actor_id} lists no {relationship} {verification_method}"
        )
    if len(matches) > 1:
        raise ProofRejected(
            ProofReason.MALFORMED_CONTROLLER, f"{actor_id} lists {verification_method} twice"
        )
    entry = matches[0]
    if entry.get("type") != "Multikey":
        raise ProofRejected(ProofReason.MALFORMED_KEY, f"{verification_method} is not a Multikey")
    if entry.get("controller") != actor_id:
        raise ProofRejected(
            ProofReason.KEY_NOT_OWNED,
            f"{verification_method} is controlled by {entry.get('controller')!r}, not {actor_id}",
        )
    if not key_belongs_to(verification_method, actor_id):
        raise ProofRejected(
            ProofReason.KEY_NOT_OWNED, f"{verification_method} is outside the origin of {actor_id}"
        )
    key_text = entry.get("publicKeyMultibase")
    if not isinstance(key_text, str):
        raise ProofRejected(ProofReason.MALFORMED_KEY, f"{verification_method} has no key text")
    try:
        return multikey_decode(key_text)
    except KeyFormatError as exc:
        raise ProofRejected(ProofReason.MALFORMED_KEY, f"{verification_method}: {exc}") from exc


def document_authors(document: Mapping[str, Any]) -> list[str]:
    """Return the ids named by the document's ``actor``, ``attributedTo`` and ``issuer``."""
    authors: list[str] = []
    for field in AUTHOR_FIELDS:
        value = document.get(field)
        for item in value if isinstance(value, list) else [value]:
            author = item.get("id") if isinstance(item, dict) else item
            if isinstance(author, str):
                authors.append(author)
    return authors


def proof_owner_matches(document: Mapping[str, Any], actor_id: str) -> bool:
    """Tell whether ``actor_id`` authored ``document`` and signed one of its proofs.

    True when ``actor_id`` is among :func:`document_authors` and some proof's
    verification method belongs to ``actor_id`` (:func:`key_belongs_to`). Use
    it after :func:`check_key_ownership` to refuse a valid proof made by
    someone other than the author.
    """
    if actor_id not in document_authors(document):
        return False
    try:
        methods = proof_verification_methods(document)
    except ProofRejected:
        return False
    return any(key_belongs_to(method, actor_id) for method in methods)


def verify_authored_object(
    document: Mapping[str, Any],
    actor_document: Mapping[str, Any],
    *,
    expected_purpose: str = "assertionMethod",
) -> str:
    """Verify the single proof on ``document`` as made by its author's own key.

    Runs :func:`check_key_ownership` against ``actor_document``,
    :func:`~protocol.proofs.verify_object` and :func:`proof_owner_matches`;
    returns the verification method. Raises :class:`~protocol.proofs.ProofRejected`.
    """
    method = proof_verification_method(document)
    key = check_key_ownership(method, actor_document, relationship=expected_purpose)
    actor_id = actor_document["id"]
    if not proof_owner_matches(document, actor_id):
        raise ProofRejected(ProofReason.NOT_AUTHOR, f"{actor_id} is not the document's author")
    verify_object(document, key, expected_purpose=expected_purpose)
    return method


def key_belongs_to(verification_method: str, actor_id: str) -> bool:
    """Whether a key id is a fragment of, or has the same origin as, the actor id."""
    if verification_method.partition("#")[0] == actor_id:
        return True
    method_origin, actor_origin = _origin(verification_method), _origin(actor_id)
    return method_origin is not None and method_origin == actor_origin


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port
