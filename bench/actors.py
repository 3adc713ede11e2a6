"""Synthetic remote actors for the federation benchmarks: real keys, real
Kula-shaped actor documents, stored the way the node stores fetched actors
(so their keys are "already cached"), and the activities they sign."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from node.federation.remote_actors import actor_record
from node.storage.base import Storage
from node.timeutil import now_text, to_text, utc_now
from protocol import builders
from protocol.httpsig import sign_request
from protocol.multikey import multikey_encode
from protocol.namespaces import AS_PUBLIC, KULA_ACTOR_CONTEXT
from protocol.normalize import normalize
from protocol.proofs import sign_object
from protocol.validation import validate


@dataclass(frozen=True)
class RemoteIdentity:
    """An actor on another server, with its private keys (which only it would hold)."""

    iri: str
    base: str
    rsa_key: rsa.RSAPrivateKey
    ed_key: ed25519.Ed25519PrivateKey
    shared_inbox: str

    @property
    def rsa_key_id(self) -> str:
        return f"{self.iri}#main-key"

    @property
    def ed_key_id(self) -> str:
        return f"{self.iri}#ed25519-key"

    def document(self) -> dict[str, Any]:
        pem = self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")
        return builders.actor(
            type="Person",
            id=self.iri,
            preferred_username=self.iri.rsplit("/", 1)[-1],
            name="Remote member",
            inbox=f"{self.iri}/inbox",
            outbox=f"{self.iri}/outbox",
            followers=f"{self.iri}/followers",
            following=f"{self.iri}/following",
            shared_inbox=self.shared_inbox,
            public_key=builders.rsa_public_key(
                id=self.rsa_key_id, owner=self.iri, public_key_pem=pem
            ),
            assertion_method=[builders.multikey(
                id=self.ed_key_id, controller=self.iri,
                public_key_multibase=multikey_encode(self.ed_key.public_key()),
            )],
        )


def make_identities(
    count: int, bases: list[str], *, rsa_keys: list[rsa.RSAPrivateKey] | None = None
) -> list[RemoteIdentity]:
    """``count`` actors spread round-robin over the servers at ``bases``.

    Each actor gets its own RSA key unless ``rsa_keys`` is given, whose keys
    are then shared round-robin (generating 10,000 RSA keys would take minutes).
    """
    identities = []
    for index in range(count):
        base = bases[index % len(bases)]
        key = (
            rsa_keys[index % len(rsa_keys)] if rsa_keys
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        identities.append(RemoteIdentity(
            iri=f"{base}/users/u{index}", base=base, rsa_key=key,
            ed_key=ed25519.Ed25519PrivateKey.generate(), shared_inbox=f"{base}/inbox",
        ))
    return identities


async def store_identities(storage: Storage, identities: list[RemoteIdentity]) -> None:
    """Store the actors as if the node had fetched them a moment ago."""
    fetched, expires = now_text(), to_text(utc_now() + timedelta(days=1))
    async with storage.transaction() as session:
        for identity in identities:
            document = normalize(identity.document(), KULA_ACTOR_CONTEXT)
            validate(document, "actor")
            await session.upsert_remote_actor(
                actor_record(document, fetched_at=fetched, expires_at=expires)
            )


def signed_create(identity: RemoteIdentity, serial: str) -> dict[str, Any]:
    """A ``Create`` of a listing, its object carrying the author's integrity proof."""
    listing = f"{identity.base}/listings/{serial}"
    proposal = builders.proposal(
        id=listing, author=identity.iri, purpose="offer", exchange_mode="lend",
        name=f"Cordless drill {serial}",
        content="<p>A cordless drill with two batteries and a case of bits; pick up any"
                " evening this week.</p>",
        to=[AS_PUBLIC],
        publishes=builders.primary_intent(
            proposal_id=listing, author=identity.iri, purpose="offer", exchange_mode="lend",
            resource_quantity=builders.measure(unit="one", value="1"),
        ),
    )
    signed = sign_object(proposal, identity.ed_key, identity.ed_key_id)
    return builders.create(
        id=f"{identity.base}/activities/{serial}", actor=identity.iri, object=signed,
        to=[AS_PUBLIC], cc=[f"{identity.iri}/followers"],
    )


def signed_post(
    identity: RemoteIdentity, inbox_url: str, activity: dict[str, Any]
) -> tuple[dict[str, str], bytes]:
    """Headers (draft-cavage rsa-sha256, what the fediverse sends) and body of one delivery."""
    body = json.dumps(activity, separators=(",", ":")).encode()
    headers = sign_request(
        "POST", inbox_url, {"Content-Type": "application/activity+json"}, body,
        key_id=identity.rsa_key_id, private_key=identity.rsa_key,
    )
    return headers, body
