"""Key helpers: load, generate and export the keys HTTP signatures use.

Parsing PEM is slow next to verifying a signature, so the signing and
verification functions take key *objects*; these helpers are for the edges
(configuration, actor documents) where PEM text comes in or goes out.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from protocol.errors import KeyFormatError

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | bytes
"""A signing key; ``bytes`` is an HMAC shared secret."""

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | bytes
"""A verification key; ``bytes`` is an HMAC shared secret."""

_PRIVATE_TYPES = (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)
_PUBLIC_TYPES = (rsa.RSAPublicKey, ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)

AsymmetricKey = (
    rsa.RSAPrivateKey
    | ed25519.Ed25519PrivateKey
    | ec.EllipticCurvePrivateKey
    | rsa.RSAPublicKey
    | ed25519.Ed25519PublicKey
    | ec.EllipticCurvePublicKey
)


@dataclass(frozen=True)
class VerificationKey:
    """A key that a key resolver returns together with the algorithm it is bound to.

    RFC 9421 §3.2 lets the verifier learn the algorithm from key metadata
    instead of the ``alg`` parameter. An RSA key alone cannot say whether it is
    for ``rsa-pss-sha512`` or ``rsa-v1_5-sha256``; pinning ``algorithm`` here
    decides it, and a signature claiming any other ``alg`` is refused.
    """

    key: PublicKey
    algorithm: str | None = None


def _as_bytes(pem: str | bytes) -> bytes:
    return pem.encode("ascii") if isinstance(pem, str) else pem


def load_private_key_pem(pem: str | bytes) -> PrivateKey:
    """Load an unencrypted PKCS#1, SEC1 or PKCS#8 private key (RSA, Ed25519 or EC)."""
    try:
        key = serialization.load_pem_private_key(_as_bytes(pem), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise KeyFormatError(f"not a readable PEM private key: {exc}") from exc
    if not isinstance(key, _PRIVATE_TYPES):
        raise KeyFormatError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key_pem(pem: str | bytes) -> PublicKey:
    """Load an SPKI (``PUBLIC KEY``) or PKCS#1 (``RSA PUBLIC KEY``) public key."""
    try:
        key = serialization.load_pem_public_key(_as_bytes(pem))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise KeyFormatError(f"not a readable PEM public key: {exc}") from exc
    if not isinstance(key, _PUBLIC_TYPES):
        raise KeyFormatError(f"unsupported public key type {type(key).__name__}")
    return key


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """Generate an RSA key with the conventional public exponent 65537."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    """Generate an Ed25519 key."""
    return ed25519.Ed25519PrivateKey.generate()


def public_key_to_pem(key: AsymmetricKey) -> str:
    """Export the public half of ``key`` as SPKI PEM, the form actor documents carry."""
    public = key.public_key() if isinstance(key, _PRIVATE_TYPES) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
