"""Actor key pairs: RSA for draft-cavage HTTP signatures (what the fediverse
speaks) and Ed25519 for object integrity proofs. Private keys stay in the
database, which only the node's user can read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


@dataclass(frozen=True)
class KeyPairPems:
    rsa_private_pem: str
    ed25519_private_pem: str


def generate_key_pems() -> KeyPairPems:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    return KeyPairPems(
        rsa_private_pem=_private_pem(rsa_key),
        ed25519_private_pem=_private_pem(ed_key),
    )


def _private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@lru_cache(maxsize=4096)
def load_rsa_private(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@lru_cache(maxsize=4096)
def load_ed25519_private(pem: str) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


@lru_cache(maxsize=4096)
def rsa_public_pem(private_pem: str) -> str:
    return (
        load_rsa_private(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
