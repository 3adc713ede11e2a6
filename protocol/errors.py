"""One error tree for the protocol layer.

Every failure a receiver must report is a :class:`ProtocolError`. Each subclass
carries a stable ``code`` (a short slug) that the node maps to an RFC 9457
problem type, and a human ``detail`` that says exactly why.
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """Root of every error raised by :mod:`protocol`."""

    code = "protocol-error"

    def __init__(self, detail: str, *, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        #: JSON pointer (RFC 6901) into the offending document, where one applies.
        self.pointer = pointer


class CanonicalizationError(ProtocolError):
    """A value cannot be canonicalised (RFC 8785) or parsed as I-JSON."""

    code = "canonicalization-error"


class LimitError(ProtocolError):
    """An untrusted document exceeds a size, depth or count limit."""

    code = "limit-exceeded"


class SchemaError(ProtocolError):
    """A document does not match its JSON Schema.

    ``errors`` lists every violation as ``(json_pointer, reason)`` pairs.
    """

    code = "schema-violation"

    def __init__(self, detail: str, *, errors: list[tuple[str, str]] | None = None) -> None:
        errors = errors or []
        super().__init__(detail, pointer=errors[0][0] if errors else None)
        self.errors = errors


class KeyFormatError(ProtocolError):
    """A public or private key is malformed or of an unsupported kind."""

    code = "key-format"


class ProofError(ProtocolError):
    """An object integrity proof (FEP-8b32) is missing, malformed or invalid."""

    code = "proof-invalid"


class SignatureError(ProtocolError):
    """An HTTP signature is missing, malformed, stale or does not verify."""

    code = "signature-invalid"


class DigestError(SignatureError):
    """A body digest (``Digest`` or ``Content-Digest``) is missing or does not match."""

    code = "digest-mismatch"


class JsonLdError(ProtocolError):
    """A JSON-LD document cannot be processed (unknown or remote context, bad shape)."""

    code = "jsonld-error"


class ExchangeStateError(ProtocolError):
    """An exchange activity arrives out of order, or from a party who may not send it.

    ``state``, ``activity_type`` and ``role`` say which transition was refused.
    """

    code = "exchange-state-conflict"

    def __init__(self, detail: str, *, state: str, activity_type: str, role: str) -> None:
        super().__init__(detail)
        self.state = state
        self.activity_type = activity_type
        self.role = role
