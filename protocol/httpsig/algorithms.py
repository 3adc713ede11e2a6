"""Signature algorithms by name, and the rules that tie each one to a kind of key.

Names are RFC 9421's registry names (§6.2.2). Algorithm confusion is refused
here, in one place: an algorithm only ever runs with the kind of key it was
made for, so HMAC never runs with a public key and ``rsa-*`` never with an
Ed25519 key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from protocol.httpsig.errors import HttpSignatureError, Reason
from protocol.httpsig.keys import PrivateKey, PublicKey

RSA_PSS_SHA512 = "rsa-pss-sha512"
RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
HMAC_SHA256 = "hmac-sha256"
ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
ECDSA_P384_SHA384 = "ecdsa-p384-sha384"
ED25519 = "ed25519"

SUPPORTED = frozenset(
    {RSA_PSS_SHA512, RSA_V1_5_SHA256, HMAC_SHA256, ECDSA_P256_SHA256, ECDSA_P384_SHA384, ED25519}
)

_RSA_TYPES = (rsa.RSAPrivateKey, rsa.RSAPublicKey)
_ED25519_TYPES = (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)
_EC_TYPES = (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)
_CURVES: dict[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int]] = {
    # algorithm: (curve, hash, byte length of r and of s)
    ECDSA_P256_SHA256: (ec.SECP256R1, hashes.SHA256(), 32),
    ECDSA_P384_SHA384: (ec.SECP384R1, hashes.SHA384(), 48),
}


@lru_cache(maxsize=64)
def _type_is(key_type: type, kinds: tuple[type, ...]) -> bool:
    # isinstance against cryptography's key ABCs runs ABCMeta.__instancecheck__,
    # a Python call per class, on every request; keys come in a handful of
    # concrete types, so the answer is kept per type. Callers pass the key's
    # __class__, which is what that isinstance consults.
    return issubclass(key_type, kinds)


def _key_fits(algorithm: str, key: PrivateKey | PublicKey) -> bool:
    if algorithm in (RSA_PSS_SHA512, RSA_V1_5_SHA256):
        return _type_is(key.__class__, _RSA_TYPES)
    if algorithm == ED25519:
        return _type_is(key.__class__, _ED25519_TYPES)
    if algorithm == HMAC_SHA256:
        return isinstance(key, bytes)
    if algorithm in _CURVES:
        return isinstance(key, _EC_TYPES) and isinstance(key.curve, _CURVES[algorithm][0])
    return False


def check_algorithm_and_key(algorithm: str, key: PrivateKey | PublicKey) -> None:
    """Raise unless ``algorithm`` is supported and ``key`` is the kind it needs."""
    if algorithm not in SUPPORTED:
        raise HttpSignatureError(Reason.UNSUPPORTED_ALGORITHM, f"algorithm {algorithm!r}")
    if not _key_fits(algorithm, key):
        raise HttpSignatureError(
            Reason.ALGORITHM_KEY_MISMATCH,
            f"algorithm {algorithm!r} cannot be used with a {type(key).__name__}",
        )


def default_algorithm_for_key(key: PrivateKey | PublicKey) -> str:
    """The algorithm a bare key implies: RSA means PKCS#1 v1.5 SHA-256, as the fediverse uses."""
    if _type_is(key.__class__, _RSA_TYPES):
        return RSA_V1_5_SHA256
    if _type_is(key.__class__, _ED25519_TYPES):
        return ED25519
    if isinstance(key, bytes):
        return HMAC_SHA256
    if isinstance(key, _EC_TYPES):
        for algorithm, (curve, _, _) in _CURVES.items():
            if isinstance(key.curve, curve):
                return algorithm
    raise HttpSignatureError(
        Reason.UNSUPPORTED_ALGORITHM, f"no algorithm for a {type(key).__name__}"
    )


def sign(algorithm: str, key: PrivateKey, data: bytes) -> bytes:
    """Sign ``data``; ECDSA signatures come out as fixed-size ``r || s`` (RFC 9421 §3.3.4)."""
    check_algorithm_and_key(algorithm, key)
    if algorithm == HMAC_SHA256:
        assert isinstance(key, bytes)
        return hmac.new(key, data, hashlib.sha256).digest()
    if algorithm == ED25519:
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        return key.sign(data)
    if algorithm == RSA_V1_5_SHA256:
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if algorithm == RSA_PSS_SHA512:
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(data, _pss(), hashes.SHA512())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    _, hash_algorithm, size = _CURVES[algorithm]
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_algorithm)))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verify(algorithm: str, key: PublicKey, data: bytes, signature: bytes) -> bool:
    """Return whether ``signature`` over ``data`` verifies; raise on a bad algorithm/key pair."""
    check_algorithm_and_key(algorithm, key)
    if algorithm == HMAC_SHA256:
        assert isinstance(key, bytes)
        return hmac.compare_digest(hmac.new(key, data, hashlib.sha256).digest(), signature)
    try:
        if algorithm == ED25519:
            assert isinstance(key, ed25519.Ed25519PublicKey)
            key.verify(signature, data)
        elif algorithm == RSA_V1_5_SHA256:
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == RSA_PSS_SHA512:
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(signature, data, _pss(), hashes.SHA512())
        else:
            assert isinstance(key, ec.EllipticCurvePublicKey)
            _, hash_algorithm, size = _CURVES[algorithm]
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            key.verify(der, data, ec.ECDSA(hash_algorithm))
    except InvalidSignature:
        return False
    return True


def _pss() -> padding.PSS:
    # RFC 9421 §3.3.1: MGF1 with SHA-512 and a 64-byte salt.
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
