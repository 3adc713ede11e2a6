"""The public API at the top of ``protocol``: complete, documented, and enough on its own.

The round trips here use nothing but ``protocol.<name>`` (plus ``cryptography``
to make an RSA key), as another project using the library would.
"""

from __future__ import annotations

import copy
import inspect
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import protocol

ALICE = "https://valley.example.org/users/alice"
ALICE_KEY = f"{ALICE}#ed25519-key"
LISTING = "https://valley.example.org/listings/drill"
EURO = protocol.currency_iri("EUR")
NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
# The W3C vc-di-eddsa test vector key (also in SPEC.md's appendix).
SECRET = protocol.private_key_multibase_decode("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
ERROR_CLASSES = (
    "ProtocolError", "SignatureError", "DigestError", "ProofError", "SchemaError",
    "CanonicalizationError", "LimitError", "KeyFormatError", "JsonLdError", "ExchangeStateError",
)


@pytest.mark.spec("Kula library: public API")
def test_all_is_sorted_unique_and_complete() -> None:
    assert protocol.__all__ == sorted(set(protocol.__all__))
    required = {
        "canonicalize", "sign_object", "verify_object", "multikey_encode", "multikey_decode",
        "sign_request", "verify_request", "VerifiedSignature", "validate", "parse_json",
        "normalize", "builders", "ExchangeMode", "ListingStatus", *ERROR_CLASSES,
    }
    assert required <= set(protocol.__all__)
    assert set(protocol.__all__) <= set(dir(protocol))


@pytest.mark.spec("Kula library: public API")
@pytest.mark.parametrize("name", protocol.__all__)
def test_every_public_name_is_importable_and_documented(name: str) -> None:
    value = getattr(protocol, name)
    own_doc = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
    assert own_doc and own_doc.strip(), f"protocol.{name} has no docstring of its own"
    assert f"`{name}`" in protocol.__doc__, f"the package docstring does not list {name}"


@pytest.mark.spec("Kula library: public API")
def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = protocol.no_such_name


@pytest.mark.spec("Kula library: public API")
def test_error_classes_form_one_tree() -> None:
    for name in ERROR_CLASSES:
        assert issubclass(getattr(protocol, name), protocol.ProtocolError)
    assert issubclass(protocol.DigestError, protocol.SignatureError)
    assert issubclass(protocol.ProofRejected, protocol.ProofError)


@pytest.mark.spec("Kula library: public API")
def test_normalize_stays_the_function_after_its_module_is_imported() -> None:
    from protocol.normalize import as_list  # loads the submodule named like the function

    assert as_list("x") == ["x"]
    assert callable(protocol.normalize) and inspect.isfunction(protocol.normalize)
    assert protocol.normalize({"type": "Note", "content": "hi"})["content"] == "hi"


def _listing() -> dict[str, Any]:
    b = protocol.builders
    mode = protocol.ExchangeMode.RENT
    return b.proposal(
        id=LISTING, author=ALICE, purpose=protocol.Purpose.OFFER, exchange_mode=mode,
        name="Cordless drill", content="<p>18V, two batteries.</p>",
        publishes=b.primary_intent(
            proposal_id=LISTING, author=ALICE, purpose="offer", exchange_mode=mode,
            resource_quantity=b.measure(unit="one", value=1),
        ),
        reciprocal=b.reciprocal_intent(
            proposal_id=LISTING, author=ALICE, purpose="offer", price_per="P1D",
            resource_quantity=b.measure(unit="one", value=Decimal("5.00")),
            resource_conforms_to=EURO,
        ),
        to="https://www.w3.org/ns/activitystreams#Public", published=NOW, price_per="P1D",
    )


def _alice() -> dict[str, Any]:
    b = protocol.builders
    return b.actor(
        type="Person", id=ALICE, preferred_username="alice", inbox=f"{ALICE}/inbox",
        outbox=f"{ALICE}/outbox", followers=f"{ALICE}/followers",
        following=f"{ALICE}/following",
        public_key=b.rsa_public_key(id=f"{ALICE}#main-key", owner=ALICE, public_key_pem="-"),
        assertion_method=[b.multikey(
            id=ALICE_KEY, controller=ALICE,
            public_key_multibase=protocol.multikey_encode(SECRET.public_key()),
        )],
    )


@pytest.mark.spec("FEP-8b32; FEP-521a")
def test_listing_round_trip_with_the_top_level_api() -> None:
    listing = _listing()
    protocol.validate(listing, "proposal")
    signed = protocol.sign_object(listing, SECRET, ALICE_KEY, created=NOW)
    protocol.validate(signed, "proposal")

    wire = protocol.canonicalize(signed)
    received = protocol.parse_json(wire)
    public_key = protocol.multikey_decode(protocol.multikey_encode(SECRET.public_key()))
    protocol.verify_object(received, public_key)
    assert protocol.verify_authored_object(received, _alice()) == ALICE_KEY

    tampered = copy.deepcopy(received)
    tampered["reciprocal"]["resourceQuantity"]["hasNumericalValue"] = "0.50"
    with pytest.raises(protocol.ProofError):
        protocol.verify_object(tampered, public_key)
    with pytest.raises(protocol.ProofError):
        protocol.verify_authored_object(tampered, _alice())


@pytest.mark.spec("JSON Schema 2020-12; Kula schemas")
def test_schema_violation_is_a_schema_error() -> None:
    listing = _listing()
    del listing["publishes"]
    with pytest.raises(protocol.SchemaError) as raised:
        protocol.validate(listing, "proposal")
    assert raised.value.errors


def _rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1; RFC 9421 §3.1")
@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_request_round_trip_with_the_top_level_api(scheme: str) -> None:
    private_pem, public_pem = _rsa_pem_pair()
    private_key = protocol.load_private_key_pem(private_pem)
    public_key = protocol.load_public_key_pem(public_pem)
    key_id = f"{ALICE}#main-key"
    body = protocol.canonicalize(_listing())
    url = "https://hill.example.org/inbox"
    headers = protocol.sign_request(
        "POST", url, {"Content-Type": "application/activity+json"}, body,
        key_id=key_id, private_key=private_key, scheme=scheme, now=NOW,
    )

    async def resolve(wanted: str, refresh: bool) -> Any:
        return public_key if wanted == key_id else None

    verified = await protocol.verify_request(
        "POST", url, headers, body, key_resolver=resolve, now=NOW
    )
    assert isinstance(verified, protocol.VerifiedSignature)
    assert (verified.key_id, verified.scheme) == (key_id, scheme)
    assert verified.algorithm == "rsa-v1_5-sha256"

    with pytest.raises(protocol.DigestError):
        await protocol.verify_request(
            "POST", url, headers, body + b" ", key_resolver=resolve, now=NOW
        )
    with pytest.raises(protocol.SignatureError):
        await protocol.verify_request(
            "POST", "https://hill.example.org/other", headers, body,
            key_resolver=resolve, now=NOW,
        )


@pytest.mark.spec("RFC 9421 §3.3.6 ed25519")
async def test_ed25519_request_round_trip() -> None:
    key_id = ALICE_KEY
    headers = protocol.sign_request(
        "GET", LISTING, {"Accept": "application/activity+json"}, None,
        key_id=key_id, private_key=SECRET, scheme="rfc9421", now=NOW,
    )

    async def resolve(wanted: str, refresh: bool) -> Any:
        return protocol.VerificationKey(SECRET.public_key(), "ed25519")

    verified = await protocol.verify_request(
        "GET", LISTING, headers, None, key_resolver=resolve, now=NOW
    )
    assert verified.algorithm == "ed25519"


@pytest.mark.spec("Kula SPEC: exchange lifecycle")
def test_exchange_lifecycle_through_the_top_level_api() -> None:
    state = protocol.ExchangeState.NEW
    proposer, responder = protocol.Role.PROPOSER, protocol.Role.RESPONDER
    for activity, role in (("Offer", responder), ("Accept", proposer)):
        assert activity in protocol.allowed_activities(state, role)
        state = protocol.next_state(state, activity, role)
    state = protocol.next_state(state, "Handover", proposer, returnable=True)
    assert state is protocol.ExchangeState.ON_LOAN
    with pytest.raises(protocol.ExchangeStateError):
        protocol.next_state(state, "Complete", proposer)


@pytest.mark.spec("Kula library: README usage example")
def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(protocol.__file__).parent / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)\n```", readme, re.S)
    assert len(example.splitlines()) <= 22
    exec(compile(example, "protocol/README.md", "exec"), {})
    assert "VerifiedSignature(key_id='https://valley.example.org/users/alice#ed25519-key'" in (
        capsys.readouterr().out
    )


@pytest.mark.spec("FEP-521a; Kula library: public API")
def test_key_ownership_names_stay_importable_from_proofs() -> None:
    from protocol import key_ownership, proofs

    for name in key_ownership.__all__:
        assert getattr(proofs, name) is getattr(key_ownership, name)
    with pytest.raises(AttributeError):
        _ = proofs.no_such_name
