"""Actors an attacker serves from evil.example, with keys of its own."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from protocol.multikey import multikey_encode
from tests.security.scene import EVIL, Scene

AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
#: Keys nobody publishes but the documents below: what an attacker signs with.
ROGUE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def rsa_public_pem_of(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def served_actor(
    scene: Scene, name: str, *, context: Any = (AS, SECURITY), claimed_id: str | None = None,
    key_id: str | None = None, **fields: Any,
) -> str:
    """Serve an actor at evil.example/users/<name> and return the IRI it claims.

    It publishes :data:`ROGUE_KEY` (as ``key_id``, by default ``<id>#main-key``)
    and :data:`ED_KEY` as a Multikey; ``fields`` replace or add members.
    """
    iri = claimed_id or scene.evil.url(f"/users/{name}", EVIL)
    scene.evil.serve_json(f"/users/{name}", {
        "@context": list(context), "id": iri, "type": "Person", "preferredUsername": name,
        "inbox": f"{iri}/inbox",
        "publicKey": {"id": key_id or f"{iri}#main-key", "owner": iri,
                      "publicKeyPem": rsa_public_pem_of(ROGUE_KEY)},
        "assertionMethod": [{
            "id": f"{iri}#ed25519-key", "type": "Multikey", "controller": iri,
            "publicKeyMultibase": multikey_encode(ED_KEY.public_key()),
        }],
        **fields,
    })
    return iri
