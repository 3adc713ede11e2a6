"""Failure reasons for HTTP message signatures.

:class:`~protocol.errors.SignatureError` says *that* a signature failed; the
node and the tests also need to know *which* check failed, in a form that
never changes with the wording of the detail. Each failure therefore carries a
:class:`Reason`, a stable slug.
"""

from __future__ import annotations

from enum import StrEnum

from protocol.errors import DigestError, SignatureError


class Reason(StrEnum):
    """Why a signature or digest was refused. The values are stable slugs."""

    MISSING_SIGNATURE = "missing-signature"
    MALFORMED_HEADER = "malformed-header"
    UNSUPPORTED_ALGORITHM = "unsupported-algorithm"
    ALGORITHM_KEY_MISMATCH = "algorithm-key-mismatch"
    UNKNOWN_KEY = "unknown-key"
    MISSING_COMPONENT = "missing-component"
    MISSING_HEADER = "missing-header"
    INVALID_COMPONENT = "invalid-component"
    DATE_OUT_OF_WINDOW = "date-out-of-window"
    CREATED_OUT_OF_WINDOW = "created-out-of-window"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad-signature"
    DIGEST_MISSING = "digest-missing"
    DIGEST_MISMATCH = "digest-mismatch"
    DIGEST_UNSUPPORTED = "digest-unsupported"
    MALFORMED_DIGEST = "malformed-digest"


class HttpSignatureError(SignatureError):
    """A :class:`SignatureError` that names the check that failed in ``reason``."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class HttpDigestError(HttpSignatureError, DigestError):
    """A body digest failure; also a :class:`~protocol.errors.DigestError`."""
