"""Pooled pledges in the protocol library: the pool section, pledges and their
limits, and the signed outcome every node can verify (a tampered or forged
outcome fails)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol import builders as b
from protocol.builders.pools import (
    pledge,
    pledge_answer,
    pledge_offer,
    pool,
    pool_commitment,
    pool_outcome,
)
from protocol.currency import currency_iri
from protocol.errors import ProofError, SchemaError
from protocol.jsonld import expand
from protocol.multikey import multikey_encode, private_key_multibase_decode
from protocol.namespaces import AS_PUBLIC, KULA_NAMESPACE
from protocol.pools import (
    GoalKind,
    PoolError,
    check_pledge,
    read_pool,
    verify_outcome,
)
from protocol.proofs import sign_object
from protocol.validation import validate

ALICE = "https://valley.example.org/users/alice"
BOB = "https://hill.example.org/users/bob"
PRESS = "https://valley.example.org/listings/cider-press"
EURO = currency_iri("EUR")
DEADLINE = datetime(2025, 6, 1, tzinfo=UTC)
# The example keys of SPEC.md, Appendix A.
KEYS = {
    ALICE: private_key_multibase_decode("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"),
    BOB: private_key_multibase_decode("z3u2TmANDoXe8WGviqCCcUBmfaFYZGiA8xgV9qsV7M4sn5fP"),
}


def actor(iri: str) -> dict[str, Any]:
    return {"id": iri, "assertionMethod": [{
        "id": f"{iri}#ed25519-key", "type": "Multikey", "controller": iri,
        "publicKeyMultibase": multikey_encode(KEYS[iri].public_key()),
    }]}


def signed(document: dict[str, Any], by: str) -> dict[str, Any]:
    return sign_object(document, KEYS[by], f"{by}#ed25519-key", created="2025-05-01T10:00:00Z")


def press(**section: Any) -> dict[str, Any]:
    """Alice's pool: 600 EUR by June for a cider press, at most 200 a pledge."""
    return b.proposal(
        id=PRESS, author=ALICE, purpose="request", exchange_mode="give", name="Cider press",
        content="<p>Let us buy a press together.</p>",
        publishes=b.primary_intent(proposal_id=PRESS, author=ALICE, purpose="request",
                                   exchange_mode="give",
                                   resource_quantity=b.measure(unit="one", value=1)),
        to=[AS_PUBLIC], published="2025-05-01T10:00:00Z",
    ) | {"pool": pool(**{
        "goal_kind": "money", "goal": b.measure(unit="one", value="600.00"),
        "end_time": DEADLINE, "currency": EURO,
        "participant_receives": "A share in the press",
        "maximum_pledge": b.measure(unit="one", value="200.00"), **section,
    })}


def bobs_pledge(amount: str = "150.00", **fields: Any) -> dict[str, Any]:
    document = pledge(id="https://hill.example.org/pledges/1", author=BOB, proposal_id=PRESS,
                      quantity=b.measure(unit="one", value=amount),
                      currency=fields.pop("currency", EURO), published="2025-05-02T10:00:00Z")
    return signed(document | fields, BOB)


BEFORE = DEADLINE - timedelta(days=1)


@pytest.mark.spec("Kula SPEC §18.1: the pool section")
def test_a_pool_section_validates_and_reads_back() -> None:
    listing = press()
    validate(listing, "proposal")
    terms = read_pool(listing)
    assert terms is not None
    assert (terms.kind, terms.currency, str(terms.goal), str(terms.maximum_pledge)) == (
        GoalKind.MONEY, "EUR", "600.00", "200.00")
    assert terms.is_open(BEFORE) and not terms.is_open(DEADLINE)
    assert read_pool(b.proposal(
        id=PRESS, author=ALICE, purpose="offer", exchange_mode="give", name="x", content="",
        publishes=listing["publishes"], to=[AS_PUBLIC])) is None


@pytest.mark.spec("Kula SPEC §18.1: the pool section")
@pytest.mark.parametrize(
    ("section", "pointer"),
    [
        ({"currency": None}, "/pool/resourceConformsTo"),
        ({"goal_kind": "participants", "currency": None,
          "goal": b.measure(unit="one", value="2.5")}, "/pool/goal"),
        ({"goal_kind": "participants", "currency": None,
          "goal": b.measure(unit="kilogram", value="2")}, "/pool/goal/hasUnit"),
        ({"goal": b.measure(unit="one", value="0")}, "/pool/goal"),
        ({"end_time": "2025-13-01T00:00:00Z"}, "/pool/endTime"),
    ],
)
def test_a_malformed_pool_is_refused(section: dict[str, Any], pointer: str) -> None:
    with pytest.raises(PoolError) as caught:
        read_pool(press(**section))
    assert (caught.value.reason, caught.value.pointer) == ("malformed", pointer)


@pytest.mark.spec("Kula SPEC §18.2: pledges")
def test_a_pledge_in_the_pool_currency_before_the_deadline_counts() -> None:
    terms = read_pool(press())
    assert terms is not None
    offer = pledge_offer(id="https://hill.example.org/activities/p1", actor=BOB,
                         pledge=bobs_pledge(), proposal_id=PRESS, to=[ALICE])
    validate(offer, "pool-pledge-offer")
    assert offer["object"]["proof"]  # embedded verbatim, still signed
    assert str(check_pledge(terms, offer["object"], sender=BOB, now=BEFORE)) == "150.00"


@pytest.mark.spec("Kula SPEC §18.2: pledges")
@pytest.mark.parametrize(
    ("document", "sender", "now", "reason"),
    [
        (bobs_pledge(), BOB, DEADLINE, "closed"),
        (bobs_pledge("200.01"), BOB, BEFORE, "amount"),
        (bobs_pledge("0"), BOB, BEFORE, "amount"),
        (bobs_pledge(currency=currency_iri("USD")), BOB, BEFORE, "amount"),
        (bobs_pledge(inReplyTo="https://valley.example.org/listings/other"), BOB, BEFORE,
         "binding"),
        (bobs_pledge(), "https://hill.example.org/users/mallory", BEFORE, "binding"),
        (bobs_pledge(attributedTo=ALICE), ALICE, BEFORE, "binding"),
    ],
    ids=["after-deadline", "above-maximum", "zero", "other-currency", "other-pool",
         "not-the-sender", "the-proposer"],
)
def test_pledges_outside_the_rules_are_refused(
    document: dict[str, Any], sender: str, now: datetime, reason: str
) -> None:
    terms = read_pool(press())
    assert terms is not None
    with pytest.raises(PoolError) as caught:
        check_pledge(terms, document, sender=sender, now=now)
    assert caught.value.reason == reason


@pytest.mark.spec("Kula SPEC §18.2: pledges")
def test_a_participants_pool_takes_one_place_per_pledge() -> None:
    terms = read_pool(press(goal_kind="participants", currency=None, maximum_pledge=None,
                            goal=b.measure(unit="one", value="10")))
    assert terms is not None
    one = bobs_pledge("1", currency=None)
    assert str(check_pledge(terms, one, sender=BOB, now=BEFORE)) == "1"
    with pytest.raises(PoolError):
        check_pledge(terms, bobs_pledge("2", currency=None), sender=BOB, now=BEFORE)


def outcome(state: str = "succeeded", amounts: tuple[str, ...] = ("400.00", "250.00"),
            **changes: Any) -> dict[str, Any]:
    """Alice's outcome, commitments by Bob (and a second pledger)."""
    iri = f"{PRESS}/outcome"
    pledges = [f"https://hill.example.org/pledges/{n}" for n in range(1, len(amounts) + 1)]
    commitments = [
        pool_commitment(id=f"{iri}#c{n}", pledge_id=p, pledger=BOB, proposer=ALICE,
                        quantity=b.measure(unit="one", value=a), currency=EURO)
        for n, (p, a) in enumerate(zip(pledges, amounts, strict=True), start=1)
    ]
    total = sum(float(a) for a in amounts)
    fields: dict[str, Any] = dict(
        id=iri, author=ALICE, proposal_id=PRESS, pool_state=state, goal_kind="money",
        goal=b.measure(unit="one", value="600.00"), currency=EURO, end_time=DEADLINE,
        pledged=b.measure(unit="one", value=f"{total:.2f}"), pledge_count=len(amounts),
        commitments=commitments if state == "succeeded" else (),
        released=() if state == "succeeded" else pledges, published=DEADLINE,
    )
    fields.update(changes)
    return signed(pool_outcome(**fields), ALICE)


@pytest.mark.spec("Kula SPEC §18.3: the outcome verifies on every node")
def test_a_signed_outcome_verifies_and_lists_the_commitments() -> None:
    made = outcome()
    entries = verify_outcome(made, actor(ALICE), proposal_id=PRESS)
    assert [(e.pledger, str(e.amount)) for e in entries] == [(BOB, "400.00"), (BOB, "250.00")]
    failed = outcome("failed", ("100.00",))
    assert [e.pledge for e in verify_outcome(failed, actor(ALICE), proposal_id=PRESS)] == [
        "https://hill.example.org/pledges/1"]
    answer = pledge_answer(type="Accept", id="https://valley.example.org/activities/a1",
                           actor=ALICE, offer_id="https://hill.example.org/activities/p1",
                           to=[BOB], outcome=made)
    validate(answer, "pool-settlement")
    assert answer["result"] == made


@pytest.mark.spec("Kula SPEC §18.3: the outcome verifies on every node")
@pytest.mark.parametrize(
    "tamper",
    [
        lambda o: o["commitments"][0]["resourceQuantity"].update(hasNumericalValue="500.00"),
        lambda o: o["commitments"].pop(),
        lambda o: o.update(poolState="failed"),
        lambda o: o["commitments"][1].update(provider="https://hill.example.org/users/eve"),
    ],
    ids=["amount", "dropped-commitment", "state", "pledger"],
)
def test_a_tampered_outcome_fails(tamper: Any) -> None:
    made = outcome()
    tampered = copy.deepcopy(made)
    tamper(tampered)
    with pytest.raises(ProofError):
        verify_outcome(tampered, actor(ALICE), proposal_id=PRESS)


@pytest.mark.spec("Kula SPEC §18.3: the outcome verifies on every node")
def test_an_outcome_signed_by_anyone_but_the_author_fails() -> None:
    forged = sign_object({k: v for k, v in outcome().items() if k != "proof"}, KEYS[BOB],
                         f"{BOB}#ed25519-key")
    with pytest.raises(ProofError):
        verify_outcome(forged, actor(ALICE), proposal_id=PRESS)
    with pytest.raises(ProofError):
        verify_outcome(forged, actor(BOB), proposal_id=PRESS)


@pytest.mark.spec("Kula SPEC §18.3: the outcome verifies on every node")
@pytest.mark.parametrize(
    ("made", "pointer"),
    [
        (lambda: outcome(amounts=("100.00",)), "/pledged"),
        (lambda: outcome(pledged=b.measure(unit="one", value="700.00")), "/commitments"),
        (lambda: outcome(pledge_count=3), "/commitments"),
        (lambda: outcome("failed", ("100.00",), commitments=[outcome()["commitments"][0]]),
         "/commitments"),
        (lambda: outcome(proposal_id="https://valley.example.org/listings/other"), "/context"),
    ],
    ids=["goal-not-met", "total", "count", "failed-with-commitments", "other-pool"],
)
def test_an_outcome_that_contradicts_itself_fails(made: Any, pointer: str) -> None:
    with pytest.raises(PoolError) as caught:
        verify_outcome(made(), actor(ALICE), proposal_id=PRESS)
    assert (caught.value.reason, caught.value.pointer) == ("outcome", pointer)


@pytest.mark.spec("Kula SPEC §18.3: the outcome verifies on every node")
def test_an_outcome_breaking_its_schema_fails() -> None:
    broken = outcome()
    del broken["pledgeCount"]
    with pytest.raises(SchemaError):
        verify_outcome(signed({k: v for k, v in broken.items() if k != "proof"}, ALICE),
                       actor(ALICE), proposal_id=PRESS)


@pytest.mark.spec("JSON-LD 1.1 §4.1.11 (protected term definitions)")
def test_pool_documents_expand_with_every_term_in_the_kula_namespace() -> None:
    documents = [press(), bobs_pledge(), outcome(), outcome("failed", ("100.00",))]
    for document in documents:
        (expanded,) = expand(document)
        text = repr(expanded)
        assert "_:" not in text and "issuer-dependent" not in text
    (listing,) = expand(press())
    (section,) = listing[f"{KULA_NAMESPACE}pool"]
    assert section["@type"] == [f"{KULA_NAMESPACE}Pool"]
    assert f"{KULA_NAMESPACE}participantReceives" in section
    (made,) = expand(outcome())
    assert f"{KULA_NAMESPACE}commitments" in made
