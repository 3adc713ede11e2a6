"""Vouches (SPEC §11.4): the credential, what a receiver checks, and what a
vouch is worth as a trust edge (SPEC Reputation: vouches)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol import builders, multikey_encode, private_key_multibase_decode, sign_object
from protocol.builders.questions import answer, question, question_relay, withdrawn_relay
from protocol.builders.vouches import vouch_credential
from protocol.errors import ProofError, SchemaError
from protocol.jsonld import expand
from protocol.namespaces import KULA_NAMESPACE
from protocol.reputation import Rating, ReputationParams, Vouch, compute_all, local_trust
from protocol.validation import validate
from protocol.vouches import read_vouch, verify_vouch

BOB = "https://hill.example.org/users/bob"
ALICE = "https://valley.example.org/users/alice"
BOB_SECRET = private_key_multibase_decode("z3u2TmANDoXe8WGviqCCcUBmfaFYZGiA8xgV9qsV7M4sn5fP")
ALICE_SECRET = private_key_multibase_decode("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def person(iri: str, secret: Any) -> dict[str, Any]:
    return builders.actor(
        type="Person", id=iri, preferred_username=iri.rsplit("/", 1)[-1],
        inbox=f"{iri}/inbox", outbox=f"{iri}/outbox", followers=f"{iri}/followers",
        following=f"{iri}/following",
        public_key=builders.rsa_public_key(id=f"{iri}#main-key", owner=iri,
                                           public_key_pem="-----BEGIN PUBLIC KEY-----\n"),
        assertion_method=[builders.multikey(
            id=f"{iri}#ed25519-key", controller=iri,
            public_key_multibase=multikey_encode(secret.public_key()),
        )],
    )


def bobs_vouch(**changes: Any) -> dict[str, Any]:
    document = vouch_credential(id="https://hill.example.org/vouches/1", issuer=BOB,
                                subject=ALICE, valid_from="2025-05-20T10:00:00Z")
    document.update(changes)
    return sign_object(document, BOB_SECRET, f"{BOB}#ed25519-key")


@pytest.mark.spec("Kula SPEC §11.4: vouches")
def test_a_vouch_is_a_signed_credential_that_verifies() -> None:
    document = bobs_vouch()
    validate(document, "vouch")
    assert document["type"] == ["VerifiableCredential", "VouchCredential"]
    assert document["credentialSubject"] == {"id": ALICE, "knownBy": BOB}
    vouch = verify_vouch(document, person(BOB, BOB_SECRET))
    assert vouch == Vouch("https://hill.example.org/vouches/1", BOB, ALICE,
                          datetime(2025, 5, 20, 10, tzinfo=UTC))
    # A Create carrying it is checked against the vouch schema, not the attestation one.
    create = builders.create(id="https://hill.example.org/activities/1", actor=BOB,
                             object=document, to=[ALICE])
    validate(create, "create")
    broken = copy.deepcopy(create)
    del broken["object"]["credentialSubject"]["knownBy"]
    with pytest.raises(SchemaError):
        validate(broken, "create")
    with pytest.raises(ValueError):
        vouch_credential(id="https://hill.example.org/vouches/2", issuer=BOB, subject=BOB)


@pytest.mark.spec("VC Data Model 2.0 §4.3 (contexts)")
def test_vouch_terms_expand_into_the_kula_namespace() -> None:
    (credential,) = expand(bobs_vouch())
    assert f"{KULA_NAMESPACE}VouchCredential" in credential["@type"]
    (subject,) = credential["https://www.w3.org/2018/credentials#credentialSubject"]
    assert subject[f"{KULA_NAMESPACE}knownBy"] == [{"@id": BOB}]


@pytest.mark.spec("Kula SPEC §11.4: what a receiver must reject")
@pytest.mark.parametrize(("label", "document", "error"), [
    ("tampered", {**bobs_vouch(), "validFrom": "2025-05-21T10:00:00Z"}, ProofError),
    ("known by another", bobs_vouch(credentialSubject={"id": ALICE, "knownBy": ALICE}),
     SchemaError),
    ("for oneself", bobs_vouch(credentialSubject={"id": BOB, "knownBy": BOB}), SchemaError),
    ("off origin", bobs_vouch(id="https://elsewhere.example.org/vouches/1"), SchemaError),
    ("an attestation's type", bobs_vouch(type=["VerifiableCredential", "ExchangeAttestation"]),
     SchemaError),
    ("not a date", bobs_vouch(validFrom="2025-13-40T10:00:00Z"), SchemaError),
])
def test_a_receiver_refuses(label: str, document: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        verify_vouch(document, person(BOB, BOB_SECRET))


@pytest.mark.spec("Kula SPEC §13.3: the signer is the author")
def test_a_vouch_signed_by_someone_else_is_refused() -> None:
    forged = sign_object(
        vouch_credential(id="https://hill.example.org/vouches/9", issuer=BOB, subject=ALICE),
        ALICE_SECRET, f"{ALICE}#ed25519-key",
    )
    with pytest.raises(ProofError):
        verify_vouch(forged, person(BOB, BOB_SECRET))
    with pytest.raises(SchemaError):
        verify_vouch(bobs_vouch(), person(ALICE, ALICE_SECRET))
    assert read_vouch(forged).issuer == BOB  # the shape alone is fine; the proof is not


@pytest.mark.spec("Kula SPEC §7.1: questions on listings")
def test_question_answer_relay_and_withdrawal_documents() -> None:
    listing = "https://valley.example.org/listings/drill"
    asked = question(id="https://hill.example.org/questions/1", author=BOB, listing=listing,
                     listing_author=ALICE, content="<p>Two batteries?</p>")
    validate(asked, "note")
    assert asked["inReplyTo"] == listing and ALICE in asked["cc"]
    relay = question_relay(id="https://valley.example.org/activities/r1", author=ALICE,
                           question=asked, to=[f"{ALICE}/followers", BOB])
    validate(relay, "announce")
    assert relay["object"]["id"] == asked["id"] and "@context" not in relay["object"]
    undone = withdrawn_relay(id="https://valley.example.org/activities/u1", author=ALICE,
                             relay=relay, to=[BOB])
    validate(undone, "undo")
    assert undone["object"] == {"id": relay["id"], "type": "Announce", "actor": ALICE,
                                "object": asked["id"]}
    reply = answer(id="https://valley.example.org/answers/1", author=ALICE,
                   question=asked["id"], asker=BOB, content="<p>Yes.</p>",
                   audience=[f"{ALICE}/followers", BOB])
    validate(reply, "note")
    assert reply["cc"] == [BOB, f"{ALICE}/followers"]


SEEDS = [f"https://valley.example.org/users/member{index}" for index in range(6)]
NEWCOMER = "https://hill.example.org/users/newcomer"
STRANGER = "https://hill.example.org/users/stranger"
RING = [f"https://fresh.example.net/users/{index}" for index in range(8)]


def community() -> list[Rating]:
    """The seeds trade with each other and rate each other well: reputable members."""
    ratings = []
    for index, (issuer, subject) in enumerate(
        (a, b) for a in SEEDS for b in SEEDS if a != b
    ):
        ratings.append(Rating(f"urn:rating:{index:03}", issuer, subject, f"urn:agreement:{index}",
                              5, NOW - timedelta(days=30)))
    return ratings


def vouch(issuer: str, subject: str) -> Vouch:
    return Vouch(f"urn:vouch:{issuer}:{subject}", issuer, subject, NOW - timedelta(days=1))


@pytest.mark.spec("Kula SPEC Reputation: vouches")
def test_vouches_from_reputable_members_lift_a_newcomer_and_a_ring_gains_little() -> None:
    ratings = community()
    newcomer_vouches = [vouch(SEEDS[0], NEWCOMER), vouch(SEEDS[1], NEWCOMER)]
    ring_vouches = [vouch(a, b) for a in RING for b in RING if a != b]
    isolated = compute_all(ratings, seeds=SEEDS, now=NOW, vouches=ring_vouches + newcomer_vouches)
    assert STRANGER not in isolated  # an anonymous account has no trust at all
    newcomer = isolated[NEWCOMER].trust
    assert newcomer > 0.5
    # Fresh accounts vouching for each other gain nothing, however many vouches they trade.
    assert [isolated[account].trust for account in RING] == [0.0] * len(RING)

    # One careless member vouches for one ring account: the ring then holds at most
    # (1 - α)/α times what flows in through that edge, spread over all its accounts.
    link = vouch(SEEDS[5], RING[0])
    linked = compute_all(ratings, seeds=SEEDS, now=NOW,
                         vouches=ring_vouches + newcomer_vouches + [link])
    share = local_trust(ratings, now=NOW, params=ReputationParams(),
                        vouches=[link])[SEEDS[5]][RING[0]]
    inflow = linked[SEEDS[5]].trust * share
    ring = [linked[account].trust for account in RING]
    assert sum(ring) <= inflow * 0.85 / 0.15 * (1 + 1e-6)
    assert max(ring) < linked[NEWCOMER].trust
    # A bigger ring gains nothing more in total, and less per account.
    bigger = [f"https://fresh.example.net/users/x{index}" for index in range(24)]
    grown = compute_all(
        ratings, seeds=SEEDS, now=NOW,
        vouches=[vouch(a, b) for a in bigger for b in bigger if a != b] + newcomer_vouches
        + [vouch(SEEDS[5], bigger[0])],
    )
    grown_ring = [grown[account].trust for account in bigger]
    assert sum(grown_ring) == pytest.approx(sum(ring), rel=1e-6)
    assert max(grown_ring) < max(ring)
