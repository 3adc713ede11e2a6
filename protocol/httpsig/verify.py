"""Verify a signed request, whichever of the two schemes it uses.

The scheme is read from the headers: ``Signature-Input`` means RFC 9421,
otherwise a ``Signature`` field (or ``Authorization: Signature ...``) means
draft-cavage-12.

Key rotation: the key resolver is first asked for ``(key_id, refresh=False)``,
which may come from a cache. If that key does not verify the signature (or is
of the wrong kind for its algorithm), the resolver is asked exactly once more
with ``refresh=True``; only if that returns a *different* key is the check
repeated with it. A resolver that returns ``None`` means the key is unknown.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from cryptography.hazmat.primitives import serialization

from protocol.httpsig import algorithms, cavage, policy, rfc9421
from protocol.httpsig.errors import HttpSignatureError, Reason
from protocol.httpsig.keys import PublicKey, VerificationKey
from protocol.httpsig.message import HeaderInput, HttpMessage

KeyResolver = Callable[[str, bool], Awaitable[PublicKey | VerificationKey | None]]
"""``async def resolve(key_id, refresh) -> key``; I/O and caching live with the caller."""


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified signature vouches for.

    ``algorithm`` is the primitive that ran, by its RFC 9421 name (a cavage
    ``rsa-sha256`` or RSA ``hs2019`` signature reports ``rsa-v1_5-sha256``).
    ``covered`` lists components as the scheme names them; ``created`` and
    ``expires`` are reported only when signed. ``label`` is the RFC 9421
    signature label, ``None`` for cavage.
    """

    key_id: str
    scheme: Literal["cavage", "rfc9421"]
    algorithm: str
    covered: tuple[str, ...]
    created: int | None
    expires: int | None = None
    label: str | None = None


async def verify_request(
    method: str,
    url: str,
    headers: HeaderInput,
    body: bytes | None,
    *,
    key_resolver: KeyResolver,
    now: datetime | None = None,
    max_skew: int = 300,
    required_components: Sequence[policy.Requirement] | None = None,
    require_body_digest: bool = True,
    label: str | None = None,
) -> VerifiedSignature:
    """Verify the HTTP signature on a request or raise :class:`HttpSignatureError`.

    ``headers`` may be a dict, a multidict or ``(name, value)`` pairs; names
    are matched case-insensitively. ``required_components`` replaces the
    scheme's default (:data:`policy.CAVAGE_REQUIRED` or
    :data:`policy.RFC9421_REQUIRED`); each entry is a component name or a
    collection of alternatives. With a non-empty body and
    ``require_body_digest``, the digest field must be present, covered and
    correct. ``max_skew`` bounds how far ``created`` may lie from ``now``
    (without ``expires``, also how old it may be); a cavage signature that
    covers no ``(created)`` is dated by its covered ``Date`` field instead.
    For RFC 9421, ``label`` picks a signature (default: the first).
    """
    message = HttpMessage.for_request(method, url, headers)
    rfc9421_scheme = "signature-input" in message.fields
    default = policy.RFC9421_REQUIRED if rfc9421_scheme else policy.CAVAGE_REQUIRED
    checks = _Checks(
        now=time.time() if now is None else now.timestamp(),
        max_skew=max_skew,
        required=default if required_components is None else required_components,
        require_body_digest=require_body_digest,
    )
    if rfc9421_scheme:
        return await _verify_rfc9421(message, body, key_resolver, checks, label)
    return await _verify_cavage(message, body, key_resolver, checks)


class _Checks(NamedTuple):
    """The caller's policy for one verification (a tuple: built on every request)."""

    now: float
    max_skew: int
    required: Sequence[policy.Requirement]
    require_body_digest: bool


def _cavage_header(message: HttpMessage) -> str:
    value = message.fields.combined("signature")
    if value is not None:
        return value
    authorization = message.fields.combined("authorization") or ""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() == "signature" and params:
        return params
    raise HttpSignatureError(Reason.MISSING_SIGNATURE, "no Signature or Signature-Input field")


async def _verify_cavage(
    message: HttpMessage, body: bytes | None, key_resolver: KeyResolver, checks: _Checks
) -> VerifiedSignature:
    parsed = cavage.parse_signature_header(_cavage_header(message))
    if parsed.algorithm not in (None, cavage.RSA_SHA256, cavage.HS2019):
        raise HttpSignatureError(Reason.UNSUPPORTED_ALGORITHM, f"cavage {parsed.algorithm!r}")
    covered = parsed.headers
    policy.check_coverage(covered, checks.required)
    created = parsed.created if cavage.CREATED in covered else None
    expires = parsed.expires if cavage.EXPIRES in covered else None
    # A covered (created) is the freshness anchor; Date only stands in without it.
    if created is None and "date" in covered:
        policy.check_date(message, checks.now, checks.max_skew)
    policy.check_created_expires(created, expires, checks.now, checks.max_skew)
    policy.check_body_digest(
        message, body, covered, field="digest", required=checks.require_body_digest
    )
    signed = cavage.build_signing_string(
        message, covered, created=parsed.created, expires=parsed.expires
    ).encode("utf-8", "surrogateescape")

    def algorithm_for(key: VerificationKey) -> str:
        primitive = cavage.resolve_algorithm(parsed.algorithm, key.key)
        if key.algorithm is not None and key.algorithm != primitive:
            raise HttpSignatureError(
                Reason.ALGORITHM_KEY_MISMATCH, f"key is bound to {key.algorithm}"
            )
        return primitive

    algorithm = await _verify_with_rotation(
        parsed.key_id, key_resolver, algorithm_for, signed, parsed.signature
    )
    return VerifiedSignature(
        key_id=parsed.key_id,
        scheme="cavage",
        algorithm=algorithm,
        covered=covered,
        created=created,
        expires=expires,
    )


async def _verify_rfc9421(
    message: HttpMessage,
    body: bytes | None,
    key_resolver: KeyResolver,
    checks: _Checks,
    label: str | None,
) -> VerifiedSignature:
    signatures = rfc9421.parse_signatures(message.fields)
    chosen = label if label is not None else next(iter(signatures))
    if chosen not in signatures:
        raise HttpSignatureError(Reason.MISSING_SIGNATURE, f"no signature labelled {chosen!r}")
    signature = signatures[chosen]
    key_id = signature.params.get("keyid")
    if not isinstance(key_id, str):
        raise HttpSignatureError(Reason.MALFORMED_HEADER, "keyid parameter missing")
    claimed = signature.params.get("alg")
    if claimed is not None and claimed not in algorithms.SUPPORTED:
        raise HttpSignatureError(Reason.UNSUPPORTED_ALGORITHM, f"alg {claimed!r}")
    covered = signature.covered
    policy.check_coverage(covered, checks.required)
    created = signature.params.get("created")
    expires = signature.params.get("expires")
    if not isinstance(created, int):
        raise HttpSignatureError(Reason.MISSING_COMPONENT, "created parameter missing")
    policy.check_created_expires(
        created, expires if isinstance(expires, int) else None, checks.now, checks.max_skew
    )
    policy.check_body_digest(
        message, body, covered, field="content-digest", required=checks.require_body_digest
    )
    signed = rfc9421.signature_base_bytes(rfc9421.rebuild_base(message, signature))

    def algorithm_for(key: VerificationKey) -> str:
        if claimed is not None and key.algorithm is not None and claimed != key.algorithm:
            raise HttpSignatureError(
                Reason.ALGORITHM_KEY_MISMATCH, f"alg {claimed} but key is bound to {key.algorithm}"
            )
        algorithm = str(claimed or key.algorithm or algorithms.default_algorithm_for_key(key.key))
        algorithms.check_algorithm_and_key(algorithm, key.key)
        return algorithm

    algorithm = await _verify_with_rotation(
        key_id, key_resolver, algorithm_for, signed, signature.signature
    )
    return VerifiedSignature(
        key_id=key_id,
        scheme="rfc9421",
        algorithm=algorithm,
        covered=covered,
        created=created,
        expires=expires if isinstance(expires, int) else None,
        label=chosen,
    )


async def _verify_with_rotation(
    key_id: str,
    key_resolver: KeyResolver,
    algorithm_for: Callable[[VerificationKey], str],
    signed: bytes,
    signature: bytes,
) -> str:
    """Verify with the cached key, then once with a refreshed one if it differs."""
    cached = await _resolve(key_resolver, key_id, refresh=False)
    try:
        return _verify_once(cached, algorithm_for, signed, signature)
    except HttpSignatureError as first_failure:
        if first_failure.reason not in (Reason.BAD_SIGNATURE, Reason.ALGORITHM_KEY_MISMATCH):
            raise
        fresh = await _resolve(key_resolver, key_id, refresh=True)
        if _same_key(cached, fresh):
            raise
    return _verify_once(fresh, algorithm_for, signed, signature)


def _verify_once(
    key: VerificationKey,
    algorithm_for: Callable[[VerificationKey], str],
    signed: bytes,
    signature: bytes,
) -> str:
    algorithm = algorithm_for(key)
    if not algorithms.verify(algorithm, key.key, signed, signature):
        raise HttpSignatureError(Reason.BAD_SIGNATURE, f"{algorithm} signature does not verify")
    return algorithm


async def _resolve(key_resolver: KeyResolver, key_id: str, *, refresh: bool) -> VerificationKey:
    resolved = await key_resolver(key_id, refresh)
    if resolved is None:
        raise HttpSignatureError(Reason.UNKNOWN_KEY, f"no key for {key_id!r}")
    return resolved if isinstance(resolved, VerificationKey) else VerificationKey(resolved)


def _same_key(first: VerificationKey, second: VerificationKey) -> bool:
    return first.algorithm == second.algorithm and _key_bytes(first.key) == _key_bytes(second.key)


def _key_bytes(key: PublicKey) -> bytes:
    if isinstance(key, bytes):
        return key
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
