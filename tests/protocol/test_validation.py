"""Schema validation: the compiled run-time validator (jsonschema_rs) and the
pure-Python reference (jsonschema) agree, and errors are sorted JSON pointers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kula_samples import AGREEMENT, ALICE, named_documents, rental_listing

from protocol.errors import SchemaError
from protocol.validation import _compiled, reference_validate, validate

SAMPLES = named_documents()
JSON_POINTER_ITEM = r"(/([^~/]|~[01])*)*"


def _outcome(validator: Any, document: Any, schema: str) -> tuple[str, ...] | None:
    """The sorted error pointers a validator reports, or None when the document is valid."""
    try:
        validator(document, schema)
    except SchemaError as error:
        return tuple(pointer for pointer, _ in error.errors)
    return None


def _pointers_agree(document: Any, schema: str) -> None:
    fast = _outcome(validate, document, schema)
    reference = _outcome(reference_validate, document, schema)
    assert (fast is None) == (reference is None), (schema, fast, reference)
    if fast is not None and reference is not None:
        assert set(fast) == set(reference), (schema, fast, reference)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return {} if value is _DELETE else value
    copied = copy.deepcopy(document)
    parent = copied
    for step in path[:-1]:
        parent = parent[step]
    if value is _DELETE and isinstance(parent, dict):
        del parent[path[-1]]
    elif value is not _DELETE:
        parent[path[-1]] = value
    return copied


_DELETE = object()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False,
                                                                     allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["https://x.test/a", "offer", "P1D", "Proposal",
                                              "2025-01-01T00:00:00Z", "-1", "one", "a" * 600]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Any, str]:
    _, schema, document = draw(st.sampled_from(SAMPLES))
    path = draw(st.sampled_from(_paths(document)))
    value = draw(st.just(_DELETE) | json_values)
    return _replace(document, path, value), schema


@pytest.mark.spec("JSON Schema 2020-12 Validation")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_validators_agree_on_mutated_documents(case: tuple[Any, str]) -> None:
    document, schema = case
    _pointers_agree(document, schema)


INVALID = [
    ("proposal", ["purpose"], "swap-meet", "/purpose"),
    ("proposal", ["publishes", "resourceQuantity", "hasNumericalValue"], "-3",
     "/publishes/resourceQuantity/hasNumericalValue"),
    ("proposal", ["location", "latitude"], 91, "/location/latitude"),
    ("proposal", ["pricePer"], "daily", "/pricePer"),
    ("proposal", ["name"], "x" * 501, "/name"),
    ("proposal", ["tag", 0, "name"], _DELETE, "/tag/0"),
    ("offer", ["object", "type"], "Commitment", "/object/type"),
    ("accept", ["result", "id"], _DELETE, "/result"),
    ("attestation", ["credentialSubject", "rating"], 6, "/credentialSubject/rating"),
    ("attestation", ["credentialSubject", "rating"], 4.5, "/credentialSubject/rating"),
    ("attestation", ["@context", 0], "https://www.w3.org/ns/activitystreams", "/@context/0"),
    ("attestation", ["validFrom"], "yesterday", "/validFrom"),
    ("cancel", ["content"], _DELETE, ""),
    ("actor", ["inbox"], "ftp://x", "/inbox"),
    ("flag", ["object"], [], "/object"),
    ("create", ["object", "purpose"], "barter", "/object/purpose"),
]


def _sample(schema: str) -> Any:
    return next(document for _, name, document in SAMPLES if name == schema)


@pytest.mark.spec("RFC 6901 (JSON pointer)")
@pytest.mark.parametrize(("schema", "path", "value", "pointer"), INVALID,
                         ids=[f"{case[0]}:{case[3]}" for case in INVALID])
def test_invalid_documents_are_reported_at_the_right_pointer(
    schema: str, path: list[Any], value: Any, pointer: str
) -> None:
    document = _replace(_sample(schema), tuple(path), value)
    for validator in (validate, reference_validate):
        with pytest.raises(SchemaError) as caught:
            validator(document, schema)
        pointers = [where for where, _ in caught.value.errors]
        assert pointer in pointers
        assert caught.value.errors == sorted(set(caught.value.errors))
        assert caught.value.pointer == pointers[0]
        assert caught.value.code == "schema-violation"
    _pointers_agree(document, schema)


@pytest.mark.spec("RFC 6901 §3 (escaping)")
def test_pointers_escape_tilde_and_slash() -> None:
    document = rental_listing()
    document["publishes"] = {**document["publishes"], "a/b~c": 1, "resourceQuantity": {}}
    document["location"] = {"type": "Place", "latitude": 100}
    with pytest.raises(SchemaError) as caught:
        validate(document, "proposal")
    for pointer, reason in caught.value.errors:
        assert pointer == "" or pointer.startswith("/"), pointer
        assert reason
    assert ("/location/latitude" in {p for p, _ in caught.value.errors})


@pytest.mark.spec("Kula SPEC: client API")
@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"purpose": "offer", "mode": "give", "title": "Chairs"}, True),
        ({"purpose": "offer", "mode": "rent", "title": "Drill",
          "price": {"amount": "5", "currency": "EUR", "per": "P1D"}}, True),
        ({"purpose": "offer", "mode": "rent", "title": "Drill",
          "price": {"amount": "5", "currency": "EUR"}}, False),
        ({"purpose": "offer", "mode": "sell", "title": "Bike"}, False),
        ({"purpose": "offer", "mode": "give", "title": "Chairs",
          "price": {"amount": "5", "currency": "EUR"}}, False),
        ({"purpose": "offer", "mode": "swap", "title": "Books"}, False),
        ({"purpose": "offer", "mode": "swap", "title": "Books", "wanted": "Comics"}, True),
        ({"purpose": "offer", "mode": "give", "title": "Chairs", "admin": True}, False),
        ({"purpose": "offer", "mode": "give", "title": "Chairs",
          "images": ["01m83smfqyyyrammz6avbmetrv"]}, True),
        ({"purpose": "offer", "mode": "give", "title": "Chairs", "images": ["../etc"]}, False),
    ],
)
def test_listing_create_request_rules(body: dict[str, Any], valid: bool) -> None:
    for validator in (validate, reference_validate):
        if valid:
            validator(body, "api-listing-create-request")
        else:
            with pytest.raises(SchemaError):
                validator(body, "api-listing-create-request")


@pytest.mark.spec("Kula SPEC: client API")
def test_update_request_takes_status_and_problem_details_validate() -> None:
    validate({"status": "reserved"}, "api-listing-update-request")
    with pytest.raises(SchemaError):
        validate({}, "api-listing-update-request")
    problem = {"type": "https://kula.community/problems/schema-violation",
               "title": "Invalid listing", "status": 422,
               "errors": [{"pointer": "/price/amount", "reason": "not a decimal"}]}
    validate(problem, "problem")
    reference_validate(problem, "problem")


@pytest.mark.spec("Kula SPEC: schemas")
def test_validators_are_compiled_once_and_unknown_names_refused() -> None:
    assert _compiled("proposal") is _compiled("proposal")
    with pytest.raises(KeyError):
        validate({}, "no-such-schema")
    with pytest.raises(KeyError):
        reference_validate({}, "no-such-schema")


@pytest.mark.spec("FEP-0837 §Accepting an agreement")
def test_inbound_activities_from_other_servers_may_carry_extra_properties() -> None:
    accept = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{ALICE}/a/9",
              "type": "Accept", "actor": ALICE, "object": "https://o/1",
              "toot:extra": {"anything": [1, 2]}, "to": "https://o/bob"}
    validate(accept, "accept")
    reference_validate(accept, "accept")
    assert json.dumps(accept)  # stays plain JSON
    assert AGREEMENT
