"""RFC 8785 canonicalization: official vectors, rejections and properties."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.canonical import canonicalize
from protocol.errors import CanonicalizationError
from protocol.jsonparse import parse_json

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc8785_jcs.json").read_text())


@pytest.mark.spec("RFC 8785 §3.2")
@pytest.mark.parametrize("name", sorted(VECTORS["files"]))
def test_reference_files_canonicalize_byte_for_byte(name: str) -> None:
    case = VECTORS["files"][name]
    output = canonicalize(json.loads(case["input"]))
    assert output == case["expected_output"].encode("utf-8")
    assert output.hex() == case["expected_hex"]


@pytest.mark.spec("RFC 8785 §3.2.2.3")
@pytest.mark.parametrize(
    "case", VECTORS["number_serialization"], ids=lambda case: case["ieee754_hex"]
)
def test_number_serialization_table(case: dict[str, Any]) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(case["ieee754_hex"]))
    if case["json"] is None:
        with pytest.raises(CanonicalizationError, match="not representable"):
            canonicalize(number)
    else:
        assert canonicalize(number) == case["json"].encode("ascii")


@pytest.mark.spec("RFC 8785 §3.1")
@pytest.mark.parametrize("case", VECTORS["negative_inputs"], ids=lambda case: case["name"])
def test_negative_inputs_are_rejected_by_the_strict_parser(case: dict[str, str]) -> None:
    with pytest.raises(CanonicalizationError):
        parse_json(case["raw"])


# The stdlib parser lets these through (a lone surrogate string, float("nan"),
# a big int); canonicalization must then refuse them itself. Duplicate names
# are not here: a dict has already dropped one, so only the parser can see them.
@pytest.mark.spec("RFC 8785 §3.1")
@pytest.mark.parametrize("name", ["lone_surrogate", "nan_literal", "int_beyond_2^53"])
def test_negative_inputs_are_rejected_by_canonicalize(name: str) -> None:
    (case,) = [case for case in VECTORS["negative_inputs"] if case["name"] == name]
    with pytest.raises(CanonicalizationError):
        canonicalize(json.loads(case["raw"]))


@pytest.mark.spec("RFC 8785 §3.2.2.3")
@pytest.mark.parametrize("value", [2**53 - 1, -(2**53) + 1, 0, -1])
def test_integers_inside_ijson_range_are_accepted(value: int) -> None:
    assert canonicalize(value) == str(value).encode()


@pytest.mark.spec("RFC 7493 §2.2")
@pytest.mark.parametrize("value", [2**53, -(2**53), 2**64, [1, {"n": 2**60}]])
def test_integers_outside_ijson_range_are_rejected(value: Any) -> None:
    with pytest.raises(CanonicalizationError, match="I-JSON range"):
        canonicalize(value)


@pytest.mark.spec("RFC 8785 §3.2.2.3")
@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), {"a": [float("inf")]}]
)
def test_non_finite_numbers_are_rejected(value: Any) -> None:
    with pytest.raises(CanonicalizationError, match="not representable"):
        canonicalize(value)


@pytest.mark.spec("RFC 8785 §3.2.3")
@pytest.mark.parametrize("value", [{1: "a"}, {"a": 1, 2: "b"}, {None: 1}, {("a",): 1}])
def test_non_string_member_names_are_rejected(value: Any) -> None:
    with pytest.raises(CanonicalizationError, match="keys must be strings"):
        canonicalize(value)


@pytest.mark.spec("RFC 8785 §3.2.2.2")
@pytest.mark.parametrize("value", ["\ud800", ["x\udfff"], {"\udc00": 1}, {"b": 1, "\ud800": 2}])
def test_lone_surrogates_are_rejected_in_strings_and_names(value: Any) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


@pytest.mark.spec("RFC 8785 §3.2")
@pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes", {"a": 1j}])
def test_non_json_types_are_rejected(value: Any) -> None:
    with pytest.raises(CanonicalizationError, match="unsupported type"):
        canonicalize(value)


@pytest.mark.spec("RFC 8785 §3.2")
def test_cyclic_structure_is_rejected() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(CanonicalizationError, match="nested too deeply"):
        canonicalize(cycle)


@pytest.mark.spec("RFC 8785 §3.2.3")
def test_members_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F602 is D83D DE02 in UTF-16, so it sorts before U+FB33 although its
    # code point is larger.
    assert canonicalize({"\ufb33": 1, "\U0001f602": 2}) == '{"😂":2,"דּ":1}'.encode()


@pytest.mark.spec("RFC 8785 §3.2.1")
def test_tuples_serialize_as_arrays() -> None:
    assert canonicalize({"a": (1, "b")}) == b'{"a":[1,"b"]}'


def _reads_back_as_number(number: float) -> bool:
    # JCS writes an integral double below 1e21 without exponent or fraction, so
    # one beyond 2**53 - 1 reads back as an integer that I-JSON refuses (see
    # test_integral_double_beyond_safe_range_does_not_read_back).
    return not (number.is_integer() and abs(number) > 2**53 - 1 and abs(number) < 1e21)


@pytest.mark.spec("RFC 7493 §2.2")
def test_integral_double_beyond_safe_range_does_not_read_back() -> None:
    canonical = canonicalize(2.0**53)
    assert canonical == b"9007199254740992"
    with pytest.raises(CanonicalizationError):
        canonicalize(json.loads(canonical))
    with pytest.raises(CanonicalizationError):
        parse_json(canonical)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(_reads_back_as_number)
    | st.text(st.characters(exclude_categories=["Cs"]))
)
_NAMES = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_NAMES, children, max_size=5),
    max_leaves=30,
)


def _reversed_members(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _reversed_members(value[name]) for name in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_members(item) for item in value]
    return value


@pytest.mark.spec("RFC 8785 §3.2")
@settings(database=None, max_examples=200)
@given(JSON_VALUES)
def test_canonical_form_is_a_fixed_point(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize(json.loads(once)) == once
    assert canonicalize(parse_json(once)) == once


@pytest.mark.spec("RFC 8785 §3.2.3")
@settings(database=None, max_examples=200)
@given(JSON_VALUES)
def test_member_order_does_not_matter(value: Any) -> None:
    assert canonicalize(_reversed_members(value)) == canonicalize(value)
