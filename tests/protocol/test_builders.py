"""Builders: every output matches its schema under both validators, and
carries what FEP-0837, ActivityStreams and VC 2.0 require."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from kula_samples import (
    AGREEMENT,
    ALICE,
    BOB,
    LISTING,
    attestation,
    gift_listing,
    named_documents,
    person,
    rental_agreement,
    rental_listing,
)

from protocol import builders as b
from protocol.namespaces import KULA_ACTOR_CONTEXT, KULA_AP_CONTEXT, KULA_CREDENTIAL_CONTEXT
from protocol.validation import reference_validate, validate

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.mark.spec("Kula SPEC: schemas")
@pytest.mark.parametrize(
    ("label", "schema", "document"), named_documents(),
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_builder_output_matches_its_schema_with_both_validators(
    label: str, schema: str, document: dict[str, Any]
) -> None:
    validate(document, schema)
    reference_validate(document, schema)


@pytest.mark.spec("FEP-0837 §Proposals")
def test_listing_follows_fep_0837() -> None:
    listing = rental_listing()
    assert listing["@context"] == KULA_AP_CONTEXT
    assert listing["type"] == "Proposal" and listing["purpose"] == "offer"
    assert listing["publishes"]["id"] == f"{LISTING}#primary"
    assert listing["reciprocal"]["id"] == f"{LISTING}#reciprocal"
    # The author provides what is offered and receives what is paid.
    assert listing["publishes"]["provider"] == listing["attributedTo"] == ALICE
    assert listing["reciprocal"]["receiver"] == ALICE
    price = listing["reciprocal"]["resourceQuantity"]
    assert price == {"hasUnit": "one", "hasNumericalValue": "5.00"}
    assert listing["publishes"]["action"] == "transferCustody"
    # Note-compatible fallback for servers without marketplace support.
    assert {"name", "content", "url", "attachment"} <= set(listing)
    assert listing["attachment"][0]["name"] == "A green cordless drill"


@pytest.mark.spec("FEP-0837 §Proposals")
def test_request_makes_the_author_the_receiver() -> None:
    wanted = b.primary_intent(proposal_id=LISTING, author=BOB, purpose="request",
                              exchange_mode="service",
                              resource_quantity=b.measure(unit="hour", value=2))
    assert wanted["receiver"] == BOB and "provider" not in wanted
    assert wanted["action"] == "deliverService"


@pytest.mark.spec("FEP-0837 §Proposals")
def test_gift_has_no_reciprocal_and_mode_mismatches_are_refused() -> None:
    assert "reciprocal" not in gift_listing()
    listing = rental_listing()
    common = {"id": LISTING, "author": ALICE, "purpose": "offer", "name": "x", "content": "y",
              "to": ALICE}
    with pytest.raises(ValueError, match="needs a reciprocal"):
        b.proposal(exchange_mode="sell", publishes={**listing["publishes"], "action": "transfer"},
                   **common)
    with pytest.raises(ValueError, match="has no reciprocal"):
        b.proposal(exchange_mode="give", reciprocal=listing["reciprocal"],
                   publishes={**listing["publishes"], "action": "transfer"}, **common)
    with pytest.raises(ValueError, match="action 'transfer'"):
        b.proposal(exchange_mode="sell", publishes=listing["publishes"],
                   reciprocal=listing["reciprocal"], **common)


@pytest.mark.spec("FEP-0837 §Proposals")
def test_quantities_are_decimal_strings_and_floats_are_refused() -> None:
    assert b.measure(unit="one", value=Decimal("0.10"))["hasNumericalValue"] == "0.10"
    with pytest.raises(TypeError):
        b.measure(unit="one", value=0.1)  # type: ignore[arg-type]


@pytest.mark.spec("FEP-0837 §Accepting an agreement")
def test_accept_carries_the_finalised_agreement() -> None:
    accepted = b.accept_offer(id="https://kula.example/a/1", actor=ALICE, offer_id="https://o/1",
                              agreement=rental_agreement(final=True), to=BOB)
    assert accepted["object"] == "https://o/1"
    assert accepted["result"]["id"] == AGREEMENT
    assert accepted["result"]["stipulates"]["id"] == f"{AGREEMENT}#primary"
    with pytest.raises(ValueError, match="needs an id"):
        b.accept_offer(id="https://kula.example/a/1", actor=ALICE, offer_id="https://o/1",
                       agreement=rental_agreement(final=False), to=BOB)


@pytest.mark.spec("FEP-0837 §Agreements")
def test_offer_embeds_the_agreement_without_its_own_context() -> None:
    offer = b.offer(id="https://o/1", actor=BOB, agreement={"@context": KULA_AP_CONTEXT,
                    **rental_agreement(final=False)}, in_reply_to=LISTING, to=ALICE)
    assert "@context" not in offer["object"]
    assert "id" not in offer["object"]["stipulates"]
    assert offer["to"] == [ALICE]


@pytest.mark.spec("VC Data Model 2.0 §4")
def test_attestation_is_a_vc_2_credential() -> None:
    credential = attestation()
    assert credential["@context"] == KULA_CREDENTIAL_CONTEXT
    assert credential["type"] == ["VerifiableCredential", "ExchangeAttestation"]
    assert credential["issuer"] == BOB and credential["credentialSubject"]["id"] == ALICE
    assert RFC3339_UTC.match(credential["validFrom"])
    revised = b.exchange_attestation(
        id="https://other.example/attestations/2", issuer=BOB, subject=ALICE,
        agreement=AGREEMENT, subject_role="owner", issuer_role="renter", rating=4,
        supersedes=credential["id"],
    )
    assert revised["supersedes"] == credential["id"]


@pytest.mark.spec("VC Data Model 2.0 §4")
@pytest.mark.parametrize(
    "change",
    [{"rating": 0}, {"rating": 6}, {"rating": True}, {"subject_role": "boss"}, {"subject": BOB}],
)
def test_attestation_refuses_bad_values(change: dict[str, Any]) -> None:
    arguments = {"id": "https://x/1", "issuer": BOB, "subject": ALICE, "agreement": AGREEMENT,
                 "subject_role": "owner", "issuer_role": "renter", "rating": 3} | change
    with pytest.raises(ValueError):
        b.exchange_attestation(**arguments)


@pytest.mark.spec("FEP-521a §Multikey")
def test_actor_document_carries_both_key_kinds() -> None:
    actor = person()
    assert actor["@context"] == KULA_ACTOR_CONTEXT
    assert actor["publicKey"]["owner"] == ALICE
    assert actor["assertionMethod"][0]["controller"] == ALICE
    assert actor["endpoints"] == {"sharedInbox": "https://kula.example/inbox"}
    assert actor["manuallyApprovesFollowers"] is False
    with pytest.raises(ValueError):
        b.actor(type="Robot", id=ALICE, preferred_username="a", inbox="https://i",
                outbox="https://o", followers="https://f", following="https://g",
                public_key=actor["publicKey"])


@pytest.mark.spec("ActivityPub §7.1.2")
def test_private_message_is_addressed_to_the_other_party_only() -> None:
    note = b.private_message(id="https://n/1", author=ALICE, recipient=BOB, content="hi",
                             agreement_id=AGREEMENT)
    assert note["to"] == [BOB] and "cc" not in note
    assert note["context"] == AGREEMENT
    assert note["tag"] == [{"type": "Mention", "href": BOB}]


@pytest.mark.spec("ActivityStreams 2.0 Vocabulary §2 (published)")
def test_timestamps_are_utc_and_naive_times_are_refused() -> None:
    created = b.follow(id="https://f/1", actor=BOB, object=ALICE)
    assert RFC3339_UTC.match(created["published"])
    with pytest.raises(ValueError):
        b.follow(id="https://f/1", actor=BOB, object=ALICE, published=datetime(2025, 1, 1))


@pytest.mark.spec("Kula SPEC: exchange lifecycle")
def test_lifecycle_activities_reference_the_agreement() -> None:
    cancelled = b.cancel(id="https://c/1", actor=BOB, agreement_id=AGREEMENT, to=ALICE,
                         reason="Ill")
    assert (cancelled["type"], cancelled["object"], cancelled["content"]) == (
        "Cancel", AGREEMENT, "Ill")
    assert b.no_show(id="https://c/2", actor=BOB, agreement_id=AGREEMENT, to=ALICE)["type"] == (
        "NoShow")


@pytest.mark.spec("ActivityStreams 2.0 Vocabulary §3.1 (Create)")
def test_create_of_a_credential_keeps_the_credential_context_inside() -> None:
    created = b.create(id="https://c/1", actor=BOB, object=attestation(), to=ALICE)
    assert created["@context"] == KULA_AP_CONTEXT
    assert created["object"]["@context"] == KULA_CREDENTIAL_CONTEXT
    updated = b.update(id="https://u/1", actor=ALICE, object=person(), to=BOB)
    assert updated["@context"] == KULA_ACTOR_CONTEXT and "@context" not in updated["object"]
