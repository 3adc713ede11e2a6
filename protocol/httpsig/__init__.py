"""HTTP message signatures: draft-cavage-12 (the fediverse's) and RFC 9421.

The high-level pair is :func:`sign_request` and :func:`verify_request`; the
pure building blocks (signing strings, signature bases, digests, keys) are
exported too, for test vectors and for callers that sign responses.
Every failure is an :class:`HttpSignatureError` (a
:class:`~protocol.errors.SignatureError`) whose ``reason`` names the check.
"""

from protocol.httpsig.algorithms import default_algorithm_for_key
from protocol.httpsig.cavage import (
    CavageSignature,
    build_signing_string,
    format_signature_header,
    parse_signature_header,
)
from protocol.httpsig.components import component_value, parse_component
from protocol.httpsig.digest import (
    make_content_digest_header,
    make_digest_header,
    parse_content_digest_header,
    parse_digest_header,
    verify_content_digest_header,
    verify_digest_header,
)
from protocol.httpsig.errors import HttpDigestError, HttpSignatureError, Reason
from protocol.httpsig.keys import (
    PrivateKey,
    PublicKey,
    VerificationKey,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
    public_key_to_pem,
)
from protocol.httpsig.message import Fields, HttpMessage
from protocol.httpsig.policy import CAVAGE_REQUIRED, RFC9421_REQUIRED
from protocol.httpsig.rfc9421 import (
    SignatureInput,
    build_signature_base,
    parse_signatures,
    sign_message,
)
from protocol.httpsig.sign import sign_request
from protocol.httpsig.verify import KeyResolver, VerifiedSignature, verify_request

__all__ = [
    "CAVAGE_REQUIRED",
    "RFC9421_REQUIRED",
    "CavageSignature",
    "Fields",
    "HttpDigestError",
    "HttpMessage",
    "HttpSignatureError",
    "KeyResolver",
    "PrivateKey",
    "PublicKey",
    "Reason",
    "SignatureInput",
    "VerificationKey",
    "VerifiedSignature",
    "build_signature_base",
    "build_signing_string",
    "component_value",
    "default_algorithm_for_key",
    "format_signature_header",
    "generate_ed25519_key",
    "generate_rsa_key",
    "load_private_key_pem",
    "load_public_key_pem",
    "make_content_digest_header",
    "make_digest_header",
    "parse_component",
    "parse_content_digest_header",
    "parse_digest_header",
    "parse_signature_header",
    "parse_signatures",
    "public_key_to_pem",
    "sign_message",
    "sign_request",
    "verify_content_digest_header",
    "verify_digest_header",
    "verify_request",
]
