"""Kula's vocabulary, its JSON-LD context, and the exchange state machine."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from kula_samples import attestation, named_documents, person, rental_listing

from protocol.errors import ExchangeStateError, JsonLdError
from protocol.exchange_states import (
    TERMINAL_STATES,
    TRANSITIONS,
    ExchangeState,
    Role,
    allowed_activities,
    next_state,
)
from protocol.jsonld import expand
from protocol.namespaces import (
    CREDENTIALS_V2_CONTEXT,
    KULA_CONTEXT,
    KULA_NAMESPACE,
    OM2_NAMESPACE,
    VALUEFLOWS_NAMESPACE,
)
from protocol.vocab import (
    ATTESTATION_ROLES,
    KULA_TERMS,
    MODE_PRIMARY_ACTION,
    MODE_ROLES,
    VF_ACTIONS,
    ExchangeMode,
    normalize_action,
)

KULA_CONTEXT_BODY: dict[str, Any] = json.loads(
    files("protocol.contexts").joinpath("kula-v1.jsonld").read_text(encoding="utf-8")
)["@context"]


def _keys(node: Any) -> set[str]:
    """Every property key anywhere in an expanded document."""
    if isinstance(node, list):
        return set().union(*(_keys(item) for item in node)) if node else set()
    if isinstance(node, dict):
        return set(node).union(*(_keys(value) for value in node.values()))
    return set()


@pytest.mark.spec("Kula SPEC: vocabulary")
def test_every_kula_term_in_the_context_is_documented_and_vice_versa() -> None:
    defined = {
        term
        for term, value in KULA_CONTEXT_BODY.items()
        if (value if isinstance(value, str) else value.get("@id", "")).startswith("kula:")
    }
    assert defined == set(KULA_TERMS)
    assert all(len(text) > 20 for text in KULA_TERMS.values())


@pytest.mark.spec("FEP-0837 §Proposals")
def test_context_uses_the_fep_0837_prefixes() -> None:
    assert KULA_CONTEXT_BODY["vf"] == VALUEFLOWS_NAMESPACE
    assert KULA_CONTEXT_BODY["om2"] == OM2_NAMESPACE
    assert KULA_CONTEXT_BODY["kula"] == KULA_NAMESPACE
    for term in ("Proposal", "Intent", "Agreement", "Commitment", "publishes", "stipulates"):
        assert KULA_CONTEXT_BODY[term] == f"vf:{term}"


@pytest.mark.spec("JSON-LD 1.1 §4.1.11 (protected term definitions)")
@pytest.mark.parametrize(
    ("label", "schema", "document"),
    [doc for doc in named_documents() if "@context" in doc[2]],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_built_document_expands_without_losing_a_term(
    label: str, schema: str, document: dict[str, Any]
) -> None:
    expanded = expand(document)
    lost = sorted(
        key for key in _keys(expanded) if key.startswith("_:") or "issuer-dependent" in key
    )
    assert lost == [], f"{label}: terms not defined by the contexts: {lost}"


@pytest.mark.spec("VC Data Model 2.0 §4.3 (contexts)")
def test_credential_expands_with_vc_v2_and_kula_terms_land_in_the_kula_namespace() -> None:
    (credential,) = expand(attestation())
    assert f"{KULA_NAMESPACE}ExchangeAttestation" in credential["@type"]
    (subject,) = credential["https://www.w3.org/2018/credentials#credentialSubject"]
    assert subject[f"{KULA_NAMESPACE}rating"][0]["@value"] == 5
    assert subject[f"{KULA_NAMESPACE}agreement"][0]["@id"].startswith("https://")


@pytest.mark.spec("VC Data Model 2.0 §4.3 (contexts)")
def test_redefining_a_protected_vc_term_is_an_error() -> None:
    # Guards the guard: pyld must refuse what the Kula context carefully avoids.
    hostile = {**attestation(), "@context": [CREDENTIALS_V2_CONTEXT, {"name": "https://x.test/n"}]}
    with pytest.raises(JsonLdError):
        expand(hostile)


@pytest.mark.spec("FEP-0837 §Proposals")
def test_listing_terms_expand_to_valueflows_and_kula_iris() -> None:
    (listing,) = expand(rental_listing())
    assert listing["@type"] == [f"{VALUEFLOWS_NAMESPACE}Proposal"]
    (primary,) = listing[f"{VALUEFLOWS_NAMESPACE}publishes"]
    assert primary[f"{VALUEFLOWS_NAMESPACE}action"] == [{"@value": "transferCustody"}]
    assert listing[f"{KULA_NAMESPACE}exchangeMode"] == [{"@value": "rent"}]
    (period,) = listing[f"{KULA_NAMESPACE}pricePer"]
    assert period["@type"].endswith("#duration")


@pytest.mark.spec("FEP-521a §Multikey")
def test_actor_keys_expand_with_the_actor_context() -> None:
    (actor,) = expand(person())
    assert "https://w3id.org/security#assertionMethod" in actor
    assert "https://w3id.org/security#publicKey" in actor
    assert KULA_CONTEXT.startswith("https://kula.community/")


@pytest.mark.spec("ValueFlows actions")
@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("transfer-custody", "transferCustody"), ("deliver-service", "deliverService"),
     ("transferCustody", "transferCustody"), ("use", "use"), ("teleport", "teleport")],
)
def test_normalize_action_accepts_both_spellings(spelling: str, expected: str) -> None:
    assert normalize_action(spelling) == expected


@pytest.mark.spec("Kula SPEC: exchange modes")
def test_every_mode_maps_to_a_valueflows_action_and_a_role_pair() -> None:
    assert set(MODE_PRIMARY_ACTION) == set(ExchangeMode) == set(MODE_ROLES)
    assert {action.value for action in MODE_PRIMARY_ACTION.values()} <= VF_ACTIONS
    assert "lender" in ATTESTATION_ROLES and "borrower" in ATTESTATION_ROLES


P, R = Role.PROPOSER, Role.RESPONDER


def _run(steps: list[tuple[str, Role]], *, returnable: bool = False) -> ExchangeState:
    state = ExchangeState.NEW
    for activity, role in steps:
        state = next_state(state, activity, role, returnable=returnable)
    return state


@pytest.mark.spec("Kula SPEC: exchange lifecycle (sale)")
def test_sale_happy_path_with_a_counter_offer() -> None:
    steps = [("Offer", R), ("Offer", P), ("Offer", R), ("Accept", P), ("Handover", R),
             ("Complete", P), ("Complete", R)]
    assert _run(steps) is ExchangeState.COMPLETED


@pytest.mark.spec("Kula SPEC: exchange lifecycle (rental)")
def test_rental_goes_through_handover_and_return() -> None:
    state = _run([("Offer", R), ("Accept", P), ("Handover", P)], returnable=True)
    assert state is ExchangeState.ON_LOAN
    state = next_state(state, "Return", P)
    assert state is ExchangeState.RETURNED
    state = next_state(next_state(state, "Complete", R), "Complete", P)
    assert state is ExchangeState.COMPLETED


@pytest.mark.spec("Kula SPEC: exchange lifecycle (swap)")
def test_swap_accepted_after_the_proposer_counters() -> None:
    steps = [("Offer", R), ("Offer", P), ("Accept", R), ("Handover", P), ("Complete", R),
             ("Complete", P)]
    assert _run(steps) is ExchangeState.COMPLETED


@pytest.mark.spec("Kula SPEC: exchange lifecycle")
@pytest.mark.parametrize(
    ("steps", "returnable", "reason"),
    [
        ([("Accept", P)], False, "not allowed while the exchange is new"),
        ([("Offer", R), ("Accept", R)], False, "only the proposer may send Accept"),
        ([("Offer", R), ("Undo", P)], False, "only the responder may send Undo"),
        ([("Offer", R), ("Accept", P), ("Complete", P)], False, "not allowed while"),
        ([("Offer", R), ("Accept", P), ("Handover", R), ("Cancel", R)], False, "not allowed"),
        ([("Offer", R), ("Accept", P), ("Handover", R), ("Complete", P), ("Complete", P)],
         False, "proposer has already confirmed completion"),
        ([("Offer", R), ("Accept", P), ("Handover", R), ("Return", R)], False, "not allowed"),
        ([("Offer", R), ("Accept", P), ("Handover", R), ("Complete", R)], True, "not allowed"),
        ([("Offer", R), ("Undo", R), ("Offer", R)], False, "withdrawn: it accepts no further"),
        ([("Offer", R), ("Accept", P), ("Teleport", P)], False, "not an exchange activity"),
    ],
)
def test_out_of_order_and_wrong_party_transitions_are_refused(
    steps: list[tuple[str, Role]], returnable: bool, reason: str
) -> None:
    *before, (activity, role) = steps
    state = _run(before, returnable=returnable)
    with pytest.raises(ExchangeStateError) as caught:
        next_state(state, activity, role, returnable=returnable)
    assert reason in caught.value.detail
    assert (caught.value.state, caught.value.activity_type, caught.value.role) == (
        state.value, activity, role.value)
    assert caught.value.code == "exchange-state-conflict"


@pytest.mark.spec("Kula SPEC: exchange lifecycle")
def test_cancel_no_show_and_dispute_before_handover() -> None:
    agreed = _run([("Offer", R), ("Accept", P)])
    assert next_state(agreed, "Cancel", R) is ExchangeState.CANCELLED
    assert next_state(agreed, "NoShow", P) is ExchangeState.NO_SHOW
    disputed = next_state(next_state(agreed, "NoShow", P), "Dispute", R)
    assert next_state(disputed, "Cancel", P) is ExchangeState.CANCELLED
    assert _run([("Offer", R), ("Reject", P), ("Offer", R)]) is ExchangeState.OFFERED


@pytest.mark.spec("Kula SPEC: exchange lifecycle")
def test_state_table_is_consistent() -> None:
    assert {ExchangeState.COMPLETED, ExchangeState.CANCELLED, ExchangeState.WITHDRAWN} <= (
        TERMINAL_STATES)
    for state in TERMINAL_STATES:
        assert allowed_activities(state, P) == allowed_activities(state, R) == frozenset()
    assert allowed_activities("offered", "proposer") == {"Offer", "Accept", "Reject"}
    assert allowed_activities("offered", "responder") == {"Undo"}
    assert all(targets for targets in TRANSITIONS.values())
    with pytest.raises(ExchangeStateError):
        next_state("limbo", "Offer", "responder")
