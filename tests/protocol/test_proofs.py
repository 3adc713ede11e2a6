"""FEP-8b32 object integrity proofs (DataIntegrityProof, eddsa-jcs-2022)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protocol.canonical import canonicalize
from protocol.multikey import (
    base58btc_decode,
    base58btc_encode,
    multikey_encode,
    private_key_multibase_decode,
)
from protocol.proofs import (
    ProofReason,
    ProofRejected,
    check_key_ownership,
    document_authors,
    proof_hash_data,
    proof_owner_matches,
    proof_verification_method,
    sign_object,
    verify_authored_object,
    verify_object,
    verify_proof_set,
)

VECTORS = Path(__file__).parents[1] / "vectors"
VC_DI = json.loads((VECTORS / "vc_di_eddsa_jcs_2022.json").read_text())
FEP = json.loads((VECTORS / "fep_8b32.json").read_text())
CURRENT = FEP["vectors"]["current"]
LEGACY = FEP["vectors"]["legacy_jcs_eddsa_2022"]
SECRET = private_key_multibase_decode(CURRENT["secret_key_multibase"])
PUBLIC = SECRET.public_key()
ALICE = CURRENT["actor"]
ALICE_KEY_ID = ALICE["assertionMethod"][0]["id"]
CREATED = "2023-02-24T23:36:38Z"


def _raw(key: Any) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@contextmanager
def _rejected(reason: ProofReason) -> Iterator[None]:
    """Assert that the block raises ProofRejected with exactly ``reason``."""
    with pytest.raises(ProofRejected) as caught:
        yield
    assert caught.value.reason is reason, f"{caught.value.reason}: {caught.value}"
    assert caught.value.code == "proof-invalid"


def _actor(actor_id: str, key_id: str, public_key: Any, controller: str | None = None) -> dict:
    return {
        "id": actor_id,
        "type": "Person",
        "assertionMethod": [
            {
                "id": key_id,
                "type": "Multikey",
                "controller": controller or actor_id,
                "publicKeyMultibase": multikey_encode(public_key),
            }
        ],
    }


# --- W3C vc-di-eddsa test vectors -------------------------------------------


@pytest.mark.spec("vc-di-eddsa §3.3.1-§3.3.6")
def test_vc_di_intermediate_values_match_byte_for_byte() -> None:
    vector = VC_DI["vectors"]["current_HEAD_did_key"]
    expected, config = vector["expected"], vector["proofConfig"]
    document = VC_DI["unsignedDocument"]
    assert canonicalize(document).decode() == expected["canonDoc"]
    assert hashlib.sha256(canonicalize(document)).hexdigest() == expected["docHashHex"]
    assert canonicalize(config).decode() == expected["proofCanon"]
    assert hashlib.sha256(canonicalize(config)).hexdigest() == expected["proofHashHex"]
    hash_data = proof_hash_data(document, config)
    assert hash_data.hex() == expected["combinedHashHex"]
    signature = SECRET.sign(hash_data)
    assert signature.hex() == expected["sigHex"]
    assert "z" + base58btc_encode(signature) == expected["proofValue"]
    assert base58btc_decode(expected["proofValue"][1:]).hex() == expected["sigHex"]


@pytest.mark.spec("vc-di-eddsa §3.3.1")
@pytest.mark.parametrize("name", sorted(VC_DI["vectors"]))
def test_vc_di_vectors_resign_and_verify(name: str) -> None:
    vector = VC_DI["vectors"][name]
    keys = VC_DI["keyPair"]
    private_key = private_key_multibase_decode(keys["privateKeyMultibase"])
    config = vector["proofConfig"]
    signed = sign_object(
        VC_DI["unsignedDocument"],
        private_key,
        config["verificationMethod"],
        created=config["created"],
        proof_purpose=config["proofPurpose"],
    )
    assert signed == vector["signed_document"]
    assert signed["proof"]["proofValue"] == vector["expected"]["proofValue"]
    verify_object(vector["signed_document"], private_key.public_key())


# --- FEP-8b32 vectors ---------------------------------------------------------


@pytest.mark.spec("FEP-8b32 §Verification")
def test_fep_current_verifies_with_the_actors_assertion_key() -> None:
    signed = CURRENT["signed"]
    method = proof_verification_method(signed)
    key = check_key_ownership(method, ALICE)
    assert _raw(key) == _raw(PUBLIC)
    verify_object(signed, key)
    assert proof_owner_matches(signed, ALICE["id"])
    assert verify_authored_object(signed, ALICE) == ALICE_KEY_ID


@pytest.mark.spec("FEP-8b32 §Signing")
def test_fep_current_resigns_deterministically() -> None:
    signed = sign_object(CURRENT["unsigned"], SECRET, ALICE_KEY_ID, created=CREATED)
    assert signed == CURRENT["signed"]
    assert list(signed["proof"]) == [
        "@context",
        "type",
        "cryptosuite",
        "verificationMethod",
        "proofPurpose",
        "created",
        "proofValue",
    ]


@pytest.mark.spec("FEP-8b32 §Backwards compatibility")
def test_fep_legacy_cryptosuite_is_refused_by_default() -> None:
    with _rejected(ProofReason.UNSUPPORTED_CRYPTOSUITE):
        verify_object(LEGACY["signed"], PUBLIC)


@pytest.mark.spec("FEP-8b32 §Backwards compatibility")
def test_fep_legacy_cryptosuite_verifies_when_allowed_and_resigns() -> None:
    verify_object(LEGACY["signed"], PUBLIC, allow_legacy_cryptosuite=True)
    proof = LEGACY["signed"]["proof"]
    config = {name: value for name, value in proof.items() if name != "proofValue"}
    signature = SECRET.sign(proof_hash_data(LEGACY["unsigned"], config))
    assert "z" + base58btc_encode(signature) == proof["proofValue"]


@pytest.mark.spec("FEP-8b32 §Backwards compatibility")
def test_fep_legacy_proof_tampered_still_fails_when_allowed() -> None:
    tampered = copy.deepcopy(LEGACY["signed"])
    tampered["object"]["content"] = "Hello w0rld"
    with _rejected(ProofReason.BAD_SIGNATURE):
        verify_object(tampered, PUBLIC, allow_legacy_cryptosuite=True)


# Reason from verify_object with Alice's key, then from the full authored check.
NEGATIVE_REASONS = {
    "content_tampered": (ProofReason.BAD_SIGNATURE, ProofReason.BAD_SIGNATURE),
    "proof_created_changed": (ProofReason.BAD_SIGNATURE, ProofReason.BAD_SIGNATURE),
    "verificationMethod_swapped": (ProofReason.BAD_SIGNATURE, ProofReason.KEY_NOT_FOUND),
    "actor_swapped": (ProofReason.BAD_SIGNATURE, ProofReason.NOT_AUTHOR),
    "cryptosuite_changed": (
        ProofReason.UNSUPPORTED_CRYPTOSUITE,
        ProofReason.UNSUPPORTED_CRYPTOSUITE,
    ),
    "float_changed_in_last_digits": (ProofReason.BAD_SIGNATURE, ProofReason.BAD_SIGNATURE),
    "proofPurpose_changed": (ProofReason.WRONG_PURPOSE, ProofReason.WRONG_PURPOSE),
}
DOCUMENT_VARIANTS = [case for case in FEP["negative_variants"] if "document" in case]


@pytest.mark.spec("FEP-8b32 §Verification")
def test_every_negative_variant_has_an_expected_reason() -> None:
    names = {case["name"] for case in FEP["negative_variants"]}
    assert names == {*NEGATIVE_REASONS, "valid_signature_but_key_not_owned_by_actor"}


@pytest.mark.spec("FEP-8b32 §Verification")
@pytest.mark.parametrize("case", DOCUMENT_VARIANTS, ids=lambda case: case["name"])
def test_negative_variants_are_rejected(case: dict[str, Any]) -> None:
    assert case["expected"] == "reject"
    direct, authored = NEGATIVE_REASONS[case["name"]]
    with _rejected(direct):
        verify_object(case["document"], PUBLIC)
    with _rejected(authored):
        verify_authored_object(case["document"], ALICE)


@pytest.mark.spec("FEP-8b32 §Verification; FEP-521a")
def test_valid_signature_but_key_not_owned_by_actor() -> None:
    evil_key_id, evil_actor_id = "https://evil.example/keys/1", "https://evil.example/actor"
    signed = sign_object(CURRENT["unsigned"], SECRET, evil_key_id, created=CREATED)
    verify_object(signed, PUBLIC)  # the signature itself is valid
    evil_actor = _actor(evil_actor_id, evil_key_id, PUBLIC)
    assert _raw(check_key_ownership(evil_key_id, evil_actor)) == _raw(PUBLIC)
    assert not proof_owner_matches(signed, evil_actor_id)
    with _rejected(ProofReason.NOT_AUTHOR):
        verify_authored_object(signed, evil_actor)
    with _rejected(ProofReason.KEY_NOT_FOUND):
        verify_authored_object(signed, ALICE)
    # Alice's document listing the evil key: its controller is not Alice...
    with _rejected(ProofReason.KEY_NOT_OWNED):
        check_key_ownership(evil_key_id, _actor(ALICE["id"], evil_key_id, PUBLIC, evil_actor_id))
    # ...and claiming Alice as controller does not move the key to her origin.
    with _rejected(ProofReason.KEY_NOT_OWNED):
        verify_authored_object(signed, _actor(ALICE["id"], evil_key_id, PUBLIC))


# --- rejection reasons --------------------------------------------------------


def _signed(**changes: Any) -> dict[str, Any]:
    signed = copy.deepcopy(CURRENT["signed"])
    for name, value in changes.items():
        if value is None:
            del signed["proof"][name]
        else:
            signed["proof"][name] = value
    return signed


@pytest.mark.spec("VC Data Integrity §4.3")
@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        (None, ProofReason.MISSING),
        ([], ProofReason.MISSING),
        ("z42ff", ProofReason.MALFORMED),
        ([CURRENT["signed"]["proof"], "x"], ProofReason.MALFORMED),
    ],
)
def test_missing_or_malformed_proof(proof: Any, reason: ProofReason) -> None:
    document = copy.deepcopy(CURRENT["signed"])
    if proof is None:
        del document["proof"]
    else:
        document["proof"] = proof
    with _rejected(reason):
        verify_object(document, PUBLIC)


@pytest.mark.spec("VC Data Integrity §4.3")
@pytest.mark.parametrize("document", [[CURRENT["signed"]], "text", None])
def test_a_document_that_is_not_an_object_is_malformed(document: Any) -> None:
    with _rejected(ProofReason.MALFORMED):
        verify_object(document, PUBLIC)


@pytest.mark.spec("vc-di-eddsa §3.3.2")
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": "Ed25519Signature2020"}, ProofReason.WRONG_TYPE),
        ({"type": None}, ProofReason.WRONG_TYPE),
        ({"cryptosuite": None}, ProofReason.UNSUPPORTED_CRYPTOSUITE),
        ({"cryptosuite": "eddsa-rdfc-2022"}, ProofReason.UNSUPPORTED_CRYPTOSUITE),
        ({"proofPurpose": None}, ProofReason.WRONG_PURPOSE),
        ({"proofPurpose": "authentication"}, ProofReason.WRONG_PURPOSE),
        ({"verificationMethod": None}, ProofReason.MALFORMED_VERIFICATION_METHOD),
        ({"verificationMethod": "alice"}, ProofReason.MALFORMED_VERIFICATION_METHOD),
        (
            {"verificationMethod": "ftp://server.example/k"},
            ProofReason.MALFORMED_VERIFICATION_METHOD,
        ),
        ({"verificationMethod": "https:///k"}, ProofReason.MALFORMED_VERIFICATION_METHOD),
        ({"verificationMethod": "https://a.example/ k"}, ProofReason.MALFORMED_VERIFICATION_METHOD),
        ({"verificationMethod": "did:key"}, ProofReason.MALFORMED_VERIFICATION_METHOD),
        (
            {"verificationMethod": ["https://a.example/k"]},
            ProofReason.MALFORMED_VERIFICATION_METHOD,
        ),
        ({"proofValue": None}, ProofReason.MALFORMED_PROOF_VALUE),
        ({"proofValue": 42}, ProofReason.MALFORMED_PROOF_VALUE),
        ({"proofValue": "u" + "A" * 86}, ProofReason.MALFORMED_PROOF_VALUE),
        ({"proofValue": "z0OIl"}, ProofReason.MALFORMED_PROOF_VALUE),
        ({"proofValue": "z" + base58btc_encode(b"\1" * 63)}, ProofReason.MALFORMED_PROOF_VALUE),
        ({"proofValue": "z" + "2" * 10_000}, ProofReason.MALFORMED_PROOF_VALUE),
        ({"created": "yesterday"}, ProofReason.MALFORMED_CREATED),
        ({"created": "2023-02-30T00:00:00Z"}, ProofReason.MALFORMED_CREATED),
        ({"created": "2023-02-24 23:36:38Z"}, ProofReason.MALFORMED_CREATED),
        ({"created": "2023-02-24T23:36:38"}, ProofReason.MALFORMED_CREATED),
        ({"created": 1677281798}, ProofReason.MALFORMED_CREATED),
        ({"created": None}, ProofReason.BAD_SIGNATURE),
        ({"@context": ["https://www.w3.org/ns/activitystreams"]}, ProofReason.CONTEXT_MISMATCH),
        ({"@context": None}, ProofReason.BAD_SIGNATURE),
        ({"domain": "server.example"}, ProofReason.BAD_SIGNATURE),
    ],
)
def test_each_malformed_proof_field_has_its_reason(
    changes: dict[str, Any], reason: ProofReason
) -> None:
    with _rejected(reason):
        verify_object(_signed(**changes), PUBLIC)


@pytest.mark.spec("vc-di-eddsa §3.3.2")
def test_document_context_extended_after_signing_is_refused() -> None:
    document = copy.deepcopy(CURRENT["signed"])
    document["@context"].append({"content": "https://evil.example/ns#content"})
    with _rejected(ProofReason.CONTEXT_MISMATCH):
        verify_object(document, PUBLIC)


@pytest.mark.spec("RFC 8785 §3.2.2.3")
@pytest.mark.parametrize("bad", [float("nan"), 2**60, {1: "x"}])
def test_document_that_is_not_ijson_is_refused(bad: Any) -> None:
    document = _signed()
    document["object"]["extra"] = bad
    with _rejected(ProofReason.UNCANONICALIZABLE):
        verify_object(document, PUBLIC)


@pytest.mark.spec("vc-di-eddsa §3.3.2")
def test_another_key_does_not_verify() -> None:
    with _rejected(ProofReason.BAD_SIGNATURE):
        verify_object(CURRENT["signed"], Ed25519PrivateKey.generate().public_key())


@pytest.mark.spec("VC Data Integrity §4.3")
def test_proof_purpose_is_checked_against_the_expected_one() -> None:
    signed = sign_object(CURRENT["unsigned"], SECRET, ALICE_KEY_ID, proof_purpose="authentication")
    verify_object(signed, PUBLIC, expected_purpose="authentication")
    with _rejected(ProofReason.WRONG_PURPOSE):
        verify_object(signed, PUBLIC)
    relabelled = copy.deepcopy(signed)
    relabelled["proof"]["proofPurpose"] = "assertionMethod"
    with _rejected(ProofReason.BAD_SIGNATURE):
        verify_object(relabelled, PUBLIC)


# --- signing ------------------------------------------------------------------


@pytest.mark.spec("FEP-8b32 §Signing")
def test_signing_does_not_mutate_or_alias_the_input() -> None:
    document = copy.deepcopy(CURRENT["unsigned"])
    signed = sign_object(document, SECRET, ALICE_KEY_ID)
    assert document == CURRENT["unsigned"]
    signed["object"]["content"] = "changed"
    signed["@context"].append("x")
    assert document == CURRENT["unsigned"]


@pytest.mark.spec("VC Data Integrity §2.1 created")
def test_created_is_normalised_to_utc_seconds() -> None:
    moment = datetime(2023, 2, 25, 1, 36, 38, 999_999, tzinfo=timezone(timedelta(hours=2)))
    for created in (moment, "2023-02-25T01:36:38.999999+02:00", "2023-02-24t23:36:38z"):
        assert (
            sign_object(CURRENT["unsigned"], SECRET, ALICE_KEY_ID, created=created)
            == (CURRENT["signed"])
        )


@pytest.mark.spec("VC Data Integrity §2.1 created")
def test_created_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    created = sign_object(CURRENT["unsigned"], SECRET, ALICE_KEY_ID)["proof"]["created"]
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    assert before <= datetime.fromisoformat(created) <= after


@pytest.mark.spec("VC Data Integrity §2.1 created")
@pytest.mark.parametrize("created", [datetime(2023, 2, 24, 23, 36, 38), "2023-13-01T00:00:00Z"])
def test_bad_created_is_refused_when_signing(created: Any) -> None:
    with _rejected(ProofReason.MALFORMED_CREATED):
        sign_object(CURRENT["unsigned"], SECRET, ALICE_KEY_ID, created=created)


@pytest.mark.spec("FEP-8b32 §Signing")
def test_bad_verification_method_is_refused_when_signing() -> None:
    with _rejected(ProofReason.MALFORMED_VERIFICATION_METHOD):
        sign_object(CURRENT["unsigned"], SECRET, "alice#key")


@pytest.mark.spec("vc-di-eddsa §3.3.5")
def test_document_without_context_signs_without_proof_context() -> None:
    document = {"type": "Note", "content": "no context"}
    signed = sign_object(document, SECRET, ALICE_KEY_ID, created=CREATED)
    assert "@context" not in signed["proof"]
    verify_object(signed, PUBLIC)
    signed["proof"]["@context"] = ["https://www.w3.org/ns/activitystreams"]
    with _rejected(ProofReason.CONTEXT_MISMATCH):
        verify_object(signed, PUBLIC)


@pytest.mark.spec("FEP-8b32 §Signing")
@settings(database=None, max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=6).filter(lambda name: name != "proof"),
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        max_size=6,
    )
)
def test_sign_then_verify_round_trips(document: dict[str, Any]) -> None:
    private_key = Ed25519PrivateKey.generate()
    signed = sign_object(document, private_key, "https://node.example/u/a#k")
    verify_object(signed, private_key.public_key())
    verify_object(json.loads(json.dumps(signed)), private_key.public_key())


# --- mutation tests -----------------------------------------------------------


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a member or item inside ``value``."""
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    paths: list[tuple] = []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(_paths(child, (*prefix, key)))
    return paths


SIGNED_PATHS = _paths(CURRENT["signed"])
NEW_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.lists(st.integers(0, 9), max_size=3)
)


def _set(document: dict, path: tuple, value: Any) -> None:
    *parents, last = path
    target: Any = document
    for key in parents:
        target = target[key]
    target[last] = value


def _get(document: dict, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


@pytest.mark.spec("FEP-8b32 §Verification")
@settings(database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SIGNED_PATHS), NEW_VALUES)
def test_changing_any_value_breaks_verification(path: tuple, value: Any) -> None:
    # JCS gives 1 and 1.0 the same bytes, so only a canonically different value is a change.
    assume(canonicalize(value) != canonicalize(_get(CURRENT["signed"], path)))
    document = copy.deepcopy(CURRENT["signed"])
    _set(document, path, value)
    with pytest.raises(ProofRejected):
        verify_object(document, PUBLIC)


@pytest.mark.spec("FEP-8b32 §Verification")
@settings(database=None, max_examples=100)
@given(
    st.sampled_from(
        [p[:-1] for p in SIGNED_PATHS if isinstance(_get(CURRENT["signed"], p[:-1]), dict)]
    ),
    st.text(max_size=8),
)
def test_adding_a_member_anywhere_breaks_verification(path: tuple, name: str) -> None:
    document = copy.deepcopy(CURRENT["signed"])
    target = _get(document, path)
    assume(name not in target and not (path == () and name == "proof"))
    target[name] = "added"
    with pytest.raises(ProofRejected):
        verify_object(document, PUBLIC)


@pytest.mark.spec("FEP-8b32 §Verification")
@pytest.mark.parametrize("path", [p for p in SIGNED_PATHS if p != ("proof",)], ids=str)
def test_removing_any_member_or_item_breaks_verification(path: tuple) -> None:
    document = copy.deepcopy(CURRENT["signed"])
    del _get(document, path[:-1])[path[-1]]
    with pytest.raises(ProofRejected):
        verify_object(document, PUBLIC)


# --- proof sets ---------------------------------------------------------------

AGREEMENT = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v2",
    ],
    "id": "https://a.example/agreements/1",
    "type": "Agreement",
    "attributedTo": ["https://a.example/users/alice", "https://b.example/users/bob"],
    "content": "Alice lends Bob a drill until Sunday",
}
ALICE_VM, BOB_VM = "https://a.example/users/alice#key", "https://b.example/users/bob#key"
BOB_SECRET = Ed25519PrivateKey.generate()
KEYS = {ALICE_VM: PUBLIC, BOB_VM: BOB_SECRET.public_key()}


def _both_signed() -> dict[str, Any]:
    once = sign_object(AGREEMENT, SECRET, ALICE_VM, created=CREATED)
    return sign_object(once, BOB_SECRET, BOB_VM, created=CREATED)


@pytest.mark.spec("VC Data Integrity §2.1.1 proof sets")
def test_second_signature_appends_an_independent_proof() -> None:
    both = _both_signed()
    assert isinstance(both["proof"], list) and len(both["proof"]) == 2
    alone = sign_object(AGREEMENT, BOB_SECRET, BOB_VM, created=CREATED)
    assert both["proof"][1] == alone["proof"]  # signs the document without Alice's proof
    assert verify_proof_set(both, KEYS) == [ALICE_VM, BOB_VM]
    both["proof"].reverse()
    assert verify_proof_set(both, KEYS) == [BOB_VM, ALICE_VM]


@pytest.mark.spec("VC Data Integrity §2.1.1 proof sets")
def test_proof_set_members_are_attributed_to_their_signers() -> None:
    both = _both_signed()
    assert document_authors(both) == [*AGREEMENT["attributedTo"]]
    assert proof_owner_matches(both, "https://a.example/users/alice")
    assert proof_owner_matches(both, "https://b.example/users/bob")
    assert not proof_owner_matches(both, "https://c.example/users/carol")


@pytest.mark.spec("VC Data Integrity §2.1.1 proof sets")
def test_single_proof_functions_refuse_a_proof_set() -> None:
    with _rejected(ProofReason.MULTIPLE):
        verify_object(_both_signed(), PUBLIC)
    with _rejected(ProofReason.MULTIPLE):
        proof_verification_method(_both_signed())


@pytest.mark.spec("VC Data Integrity §2.1.1 proof sets")
def test_proof_set_failures() -> None:
    with _rejected(ProofReason.UNKNOWN_VERIFICATION_METHOD):
        verify_proof_set(_both_signed(), {ALICE_VM: PUBLIC})
    tampered = _both_signed()
    tampered["content"] = "Alice gives Bob a drill"
    with _rejected(ProofReason.BAD_SIGNATURE):
        verify_proof_set(tampered, KEYS)
    swapped = _both_signed()
    swapped["proof"][1]["proofValue"] = swapped["proof"][0]["proofValue"]
    with _rejected(ProofReason.BAD_SIGNATURE):
        verify_proof_set(swapped, KEYS)
    twice = _both_signed()
    twice["proof"][1] = twice["proof"][0]
    with _rejected(ProofReason.DUPLICATE_SIGNER):
        verify_proof_set(twice, KEYS)
    with _rejected(ProofReason.MISSING):
        verify_proof_set(AGREEMENT, KEYS)


@pytest.mark.spec("VC Data Integrity §2.1.1 proof sets")
def test_dropping_a_proof_leaves_only_the_other_signer() -> None:
    # A verifier needing both parties must compare the returned list with them.
    both = _both_signed()
    both["proof"] = both["proof"][:1]
    assert verify_proof_set(both, KEYS) == [ALICE_VM]


@pytest.mark.spec("VC Data Integrity §2.1.1 proof sets")
def test_single_proof_is_a_proof_set_of_one() -> None:
    assert verify_proof_set(CURRENT["signed"], {ALICE_KEY_ID: PUBLIC}) == [ALICE_KEY_ID]


# --- key ownership (FEP-521a) ---------------------------------------------------


@pytest.mark.spec("FEP-521a §Verification methods")
@pytest.mark.parametrize(
    ("actor_id", "key_id"),
    [
        ("https://server.example/users/alice", "https://server.example/users/alice#main"),
        ("https://server.example/users/alice", "https://server.example/keys/alice"),
        ("https://server.example/users/alice", "https://SERVER.example:443/keys/alice"),
        ("did:web:server.example", "did:web:server.example#key-1"),
    ],
)
def test_key_ownership_accepts_the_actors_own_keys(actor_id: str, key_id: str) -> None:
    assert _raw(check_key_ownership(key_id, _actor(actor_id, key_id, PUBLIC))) == _raw(PUBLIC)


@pytest.mark.spec("FEP-521a §Verification methods")
@pytest.mark.parametrize(
    ("actor_id", "key_id"),
    [
        ("https://server.example/users/alice", "https://other.example/users/alice#main"),
        ("https://server.example/users/alice", "https://server.example:8443/keys/alice"),
        ("https://server.example/users/alice", "http://server.example/keys/alice"),
        ("did:web:server.example", "did:web:other.example#key-1"),
    ],
)
def test_key_ownership_refuses_keys_from_elsewhere(actor_id: str, key_id: str) -> None:
    with _rejected(ProofReason.KEY_NOT_OWNED):
        check_key_ownership(key_id, _actor(actor_id, key_id, PUBLIC))


def _alice_with(**entry_changes: Any) -> dict[str, Any]:
    actor = copy.deepcopy(ALICE)
    actor["assertionMethod"][0].update(entry_changes)
    return actor


@pytest.mark.spec("FEP-521a §Verification methods")
@pytest.mark.parametrize(
    ("actor", "reason"),
    [
        (_alice_with(controller="https://server.example/users/bob"), ProofReason.KEY_NOT_OWNED),
        (_alice_with(type="JsonWebKey"), ProofReason.MALFORMED_KEY),
        (_alice_with(publicKeyMultibase="z6MkNOTAKEY"), ProofReason.MALFORMED_KEY),
        (_alice_with(publicKeyMultibase=None), ProofReason.MALFORMED_KEY),
        (_alice_with(id="https://server.example/users/alice#other"), ProofReason.KEY_NOT_FOUND),
        ({**ALICE, "assertionMethod": ALICE_KEY_ID}, ProofReason.KEY_NOT_FOUND),
        (
            {**ALICE, "assertionMethod": ALICE["assertionMethod"] * 2},
            ProofReason.MALFORMED_CONTROLLER,
        ),
        ({**ALICE, "id": None}, ProofReason.MALFORMED_CONTROLLER),
    ],
)
def test_key_ownership_failures(actor: dict[str, Any], reason: ProofReason) -> None:
    with _rejected(reason):
        check_key_ownership(ALICE_KEY_ID, actor)


@pytest.mark.spec("FEP-521a §Verification methods")
def test_key_ownership_reads_the_requested_relationship() -> None:
    actor = {**ALICE, "assertionMethod": ALICE["assertionMethod"][0]}  # a lone object
    assert _raw(check_key_ownership(ALICE_KEY_ID, actor)) == _raw(PUBLIC)
    moved = {"id": ALICE["id"], "authentication": ALICE["assertionMethod"]}
    with _rejected(ProofReason.KEY_NOT_FOUND):
        check_key_ownership(ALICE_KEY_ID, moved)
    assert check_key_ownership(ALICE_KEY_ID, moved, relationship="authentication")


@pytest.mark.spec("FEP-8b32 §Verification")
@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"actor": "https://s.example/u/a"}, True),
        ({"attributedTo": {"id": "https://s.example/u/a", "type": "Person"}}, True),
        ({"issuer": "https://s.example/u/a"}, True),
        ({"actor": "https://s.example/u/b"}, False),
        ({"actor": "https://s.example/u/b", "attributedTo": "https://s.example/u/a"}, True),
        ({}, False),
    ],
)
def test_proof_owner_matches_the_author(document: dict[str, Any], expected: bool) -> None:
    signed = sign_object(document, SECRET, "https://s.example/u/a#key")
    assert proof_owner_matches(signed, "https://s.example/u/a") is expected


@pytest.mark.spec("FEP-8b32 §Verification")
def test_proof_owner_requires_a_key_of_the_author() -> None:
    signed = sign_object({"actor": "https://s.example/u/a"}, SECRET, "https://t.example/u/a#key")
    assert not proof_owner_matches(signed, "https://s.example/u/a")
    assert not proof_owner_matches({"actor": "https://s.example/u/a"}, "https://s.example/u/a")
