"""Object integrity proofs (FEP-8b32): ``DataIntegrityProof`` with ``eddsa-jcs-2022``.

The algorithm is W3C vc-di-eddsa §3.3 (eddsa-jcs-2022)::

    proofConfig = proof without proofValue (when signing: the document's
                  @context, type, cryptosuite, verificationMethod,
                  proofPurpose, created)
    hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
    proofValue  = "z" + base58btc(Ed25519 signature over hashData)

Proof sets (VC Data Integrity §2.1.1): a document may carry several
independent proofs as a list under ``proof``, for example an Agreement signed by
both parties. Every proof in a set signs the document with the ``proof``
property removed entirely, so the proofs neither depend on each other nor on
their order; :func:`sign_object` appends to an existing proof, and
:func:`verify_proof_set` checks every member.

Two choices are stricter than vc-di-eddsa, because receivers process these
documents as plain JSON and must see exactly what was signed: a proof's
``@context`` must *equal* the document's (the spec accepts a prefix and swaps
it in), and the pre-2023 cryptosuite name ``jcs-eddsa-2022`` is refused unless
``allow_legacy_cryptosuite`` is set.

Who may sign is a separate question from whether a signature verifies: see
:mod:`protocol.key_ownership` (its names stay importable from here).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.canonical import canonicalize
from protocol.errors import CanonicalizationError, KeyFormatError, ProofError
from protocol.multikey import BASE58BTC_PREFIX, base58btc_decode, base58btc_encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
#: The same algorithm under its name before vc-di-eddsa renamed it; its proofs
#: usually carry no ``@context``.
LEGACY_CRYPTOSUITE = "jcs-eddsa-2022"

_SIGNATURE_LENGTH = 64
# 64 bytes are at most 88 base58 digits; longer text is refused before the
# quadratic decoder sees it.
_MAX_PROOF_VALUE_LENGTH = 100
_MAX_URL_LENGTH = 2048
# fromisoformat alone also takes ISO 8601 forms RFC 3339 does not (basic
# format, a date alone); this shape is checked first.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
#: The schemes a verification method URL may use, with their default ports.
DEFAULT_PORTS = {"http": 80, "https": 443}
_DID_URL = re.compile(r"did:[a-z0-9]+:\S+")


class ProofReason(StrEnum):
    """Why a proof was rejected; stable slugs for tests, logs and problem details."""

    MISSING = "missing-proof"
    MALFORMED = "malformed-proof"
    MULTIPLE = "multiple-proofs"
    DUPLICATE_SIGNER = "duplicate-signer"
    WRONG_TYPE = "wrong-proof-type"
    UNSUPPORTED_CRYPTOSUITE = "unsupported-cryptosuite"
    WRONG_PURPOSE = "wrong-proof-purpose"
    MALFORMED_VERIFICATION_METHOD = "malformed-verification-method"
    UNKNOWN_VERIFICATION_METHOD = "unknown-verification-method"
    MALFORMED_PROOF_VALUE = "malformed-proof-value"
    MALFORMED_CREATED = "malformed-created"
    CONTEXT_MISMATCH = "context-mismatch"
    UNCANONICALIZABLE = "uncanonicalizable-document"
    BAD_SIGNATURE = "signature-mismatch"
    MALFORMED_CONTROLLER = "malformed-controller-document"
    KEY_NOT_FOUND = "key-not-found"
    MALFORMED_KEY = "malformed-key"
    KEY_NOT_OWNED = "key-not-owned"
    NOT_AUTHOR = "signer-not-author"


class ProofRejected(ProofError):
    """A :class:`ProofError` whose ``reason`` says which check failed."""

    def __init__(self, reason: ProofReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def proof_hash_data(
    unsecured_document: Mapping[str, Any], proof_config: Mapping[str, Any]
) -> bytes:
    """Return ``SHA-256(JCS(proof_config)) || SHA-256(JCS(unsecured_document))``.

    Raises :class:`CanonicalizationError` when either is not I-JSON.
    """
    return (
        hashlib.sha256(canonicalize(proof_config)).digest()
        + hashlib.sha256(canonicalize(unsecured_document)).digest()
    )


def sign_object(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: str | datetime | None = None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``document`` carrying a new ``eddsa-jcs-2022`` proof.

    ``created`` defaults to now and is written as RFC 3339 UTC to the second.
    If the document already has a proof, the new one is appended to form a
    proof set; it signs the document without any of the existing proofs.
    """
    checked_verification_method(verification_method)
    unsecured = _without_proof(document)
    config: dict[str, Any] = {}
    if "@context" in document:
        config["@context"] = copy.deepcopy(document["@context"])
    config |= {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
        "created": _format_created(created),
    }
    signature = private_key.sign(proof_hash_data(unsecured, config))
    proof = config | {"proofValue": BASE58BTC_PREFIX + base58btc_encode(signature)}
    signed = copy.deepcopy(unsecured)
    if document.get("proof") in (None, []):
        signed["proof"] = proof
    else:
        signed["proof"] = [*copy.deepcopy(proofs_of(document)), proof]
    return signed


def verify_object(
    document: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_purpose: str = "assertionMethod",
    allow_legacy_cryptosuite: bool = False,
) -> None:
    """Check the single proof on ``document`` against ``public_key``.

    Returns nothing on success and raises :class:`ProofRejected` (with its
    ``reason``) otherwise. A document with several proofs is refused
    (``multiple-proofs``): use :func:`verify_proof_set` for those.
    """
    proofs = proofs_of(document)
    if len(proofs) != 1:
        raise ProofRejected(
            ProofReason.MULTIPLE, f"expected one proof, found {len(proofs)}: verify a proof set"
        )
    _verify_proof(document, proofs[0], public_key, expected_purpose, allow_legacy_cryptosuite)


def verify_proof_set(
    document: Mapping[str, Any],
    keys_by_verification_method: Mapping[str, Ed25519PublicKey],
    *,
    expected_purpose: str = "assertionMethod",
    allow_legacy_cryptosuite: bool = False,
) -> list[str]:
    """Verify every proof on ``document``; return their verification methods in order.

    Each proof must name a verification method found in
    ``keys_by_verification_method`` and verify against the document without
    its proofs. Any failure raises :class:`ProofRejected`; so does a signer
    appearing twice, which would let one party pass for two.
    """
    proofs = proofs_of(document)
    verified: list[str] = []
    for proof in proofs:
        method = checked_verification_method(proof.get("verificationMethod"))
        if method in verified:
            raise ProofRejected(ProofReason.DUPLICATE_SIGNER, f"{method} signs more than once")
        key = keys_by_verification_method.get(method)
        if key is None:
            raise ProofRejected(
                ProofReason.UNKNOWN_VERIFICATION_METHOD, f"no key known for {method}"
            )
        _verify_proof(document, proof, key, expected_purpose, allow_legacy_cryptosuite)
        verified.append(method)
    return verified


def _verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    expected_purpose: str,
    allow_legacy: bool,
) -> None:
    if proof.get("type") != PROOF_TYPE:
        raise ProofRejected(ProofReason.WRONG_TYPE, f"proof type {proof.get('type')!r}")
    suite = proof.get("cryptosuite")
    if suite != CRYPTOSUITE and not (allow_legacy and suite == LEGACY_CRYPTOSUITE):
        raise ProofRejected(ProofReason.UNSUPPORTED_CRYPTOSUITE, f"cryptosuite {suite!r}")
    purpose = proof.get("proofPurpose")
    if purpose != expected_purpose:
        raise ProofRejected(
            ProofReason.WRONG_PURPOSE, f"proofPurpose {purpose!r}, expected {expected_purpose!r}"
        )
    checked_verification_method(proof.get("verificationMethod"))
    if "created" in proof:
        _parse_created(proof["created"])
    signature = _decode_proof_value(proof.get("proofValue"))
    if "@context" in proof and proof["@context"] != document.get("@context"):
        raise ProofRejected(ProofReason.CONTEXT_MISMATCH, "proof @context differs from document's")
    config = {name: value for name, value in proof.items() if name != "proofValue"}
    try:
        hash_data = proof_hash_data(_without_proof(document), config)
    except CanonicalizationError as exc:
        raise ProofRejected(ProofReason.UNCANONICALIZABLE, exc.detail) from exc
    try:
        public_key.verify(signature, hash_data)
    except InvalidSignature as exc:
        raise ProofRejected(ProofReason.BAD_SIGNATURE, "signature does not verify") from exc


def proofs_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the proofs on ``document`` as a list; raise :class:`ProofRejected` if none."""
    # Documents come straight from parse_json, whose top level may be any value.
    if not isinstance(document, Mapping):
        raise ProofRejected(ProofReason.MALFORMED, "a signed document must be a JSON object")
    proof = document.get("proof")
    if proof is None or proof == []:
        raise ProofRejected(ProofReason.MISSING, "document has no proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not all(isinstance(item, dict) for item in proofs):
        raise ProofRejected(ProofReason.MALFORMED, "proof must be an object or a list of objects")
    return proofs


def _without_proof(document: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in document.items() if name != "proof"}


def checked_verification_method(value: object) -> str:
    """Return ``value`` if it is an absolute http(s) URL with a host, or a DID URL."""
    if (
        isinstance(value, str)
        and len(value) <= _MAX_URL_LENGTH
        and value.isprintable()
        and " " not in value
    ):
        if _DID_URL.fullmatch(value):
            return value
        try:
            parts = urlsplit(value)
            if parts.scheme in DEFAULT_PORTS and parts.hostname:
                return value
        except ValueError:
            pass
    raise ProofRejected(
        ProofReason.MALFORMED_VERIFICATION_METHOD,
        f"verificationMethod {value!r} is not an http(s) or DID URL",
    )


def _decode_proof_value(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith(BASE58BTC_PREFIX):
        raise ProofRejected(ProofReason.MALFORMED_PROOF_VALUE, "proofValue is not base58btc text")
    if len(value) > _MAX_PROOF_VALUE_LENGTH:
        raise ProofRejected(ProofReason.MALFORMED_PROOF_VALUE, "proofValue is too long")
    try:
        signature = base58btc_decode(value[1:])
    except KeyFormatError as exc:
        raise ProofRejected(ProofReason.MALFORMED_PROOF_VALUE, exc.detail) from exc
    if len(signature) != _SIGNATURE_LENGTH:
        raise ProofRejected(
            ProofReason.MALFORMED_PROOF_VALUE,
            f"proofValue holds {len(signature)} bytes, an Ed25519 signature has 64",
        )
    return signature


def _parse_created(value: object) -> datetime:
    try:
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise ValueError("not RFC 3339 date-time")
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise ProofRejected(ProofReason.MALFORMED_CREATED, f"created {value!r}: {exc}") from exc


def _format_created(created: str | datetime | None) -> str:
    if created is None:
        moment = datetime.now(UTC)
    elif isinstance(created, str):
        moment = _parse_created(created)
    elif created.tzinfo is None:
        raise ProofRejected(ProofReason.MALFORMED_CREATED, "created must be timezone-aware")
    else:
        moment = created
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def __getattr__(name: str) -> Any:
    """Resolve the names that moved to :mod:`protocol.key_ownership`, for old imports."""
    # Imported on first use, because key_ownership imports this module.
    from protocol import key_ownership

    if name in key_ownership.__all__:
        return getattr(key_ownership, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
