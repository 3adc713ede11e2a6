"""Strict I-JSON parsing of untrusted documents, with resource limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import CanonicalizationError, LimitError
from protocol.jsonparse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_MEMBERS,
    MAX_SAFE_INTEGER,
    parse_json,
)


@pytest.mark.spec("RFC 8259 §2")
@pytest.mark.parametrize(
    "text",
    [
        '{"type": "Note", "to": ["a", "b"], "n": -12.5e3, "ok": true, "no": null}',
        "[]",
        "{}",
        '"just a string"',
        "0",
        "-0.0",
        " \n\t[1, 2]\r\n",
        '{"emoji": "\\ud83d\\ude02", "raw": "😂", "esc": "\\u00e9\\n"}',
    ],
)
def test_valid_documents_parse_like_the_stdlib(text: str) -> None:
    assert parse_json(text) == json.loads(text)
    assert parse_json(text.encode("utf-8")) == json.loads(text)


@pytest.mark.spec("RFC 7493 §2.3")
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"a": 1, "a": 2}', "'a'"),
        ('{"x": {"id": 1, "type": "Note", "id": 2}}', "'id'"),
        ('[{"ok": 1}, {"b": 1, "b": 1}]', "'b'"),
        ('{"\\u0061": 1, "a": 2}', "'a'"),
    ],
)
def test_duplicate_member_names_are_rejected(text: str, name: str) -> None:
    with pytest.raises(CanonicalizationError, match=f"duplicate member name {name}"):
        parse_json(text)


@pytest.mark.spec("RFC 8259 §6")
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_rejected(literal: str) -> None:
    with pytest.raises(CanonicalizationError, match=f"{literal} is not a JSON number"):
        parse_json(f'{{"a": [{literal}]}}')


@pytest.mark.spec("RFC 7493 §2.1")
@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '"x\\udfff"',
        '["ok", "\\uDBFF"]',
        '{"\\ud83d": 1}',
        '{"a": {"b": "\\ude02\\ud83d"}}',
    ],
)
def test_escaped_lone_surrogates_are_rejected(text: str) -> None:
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        parse_json(text)


@pytest.mark.spec("RFC 7493 §2.1")
def test_escaped_backslash_before_u_d800_is_plain_text() -> None:
    assert parse_json('"\\\\ud800"') == "\\ud800"


@pytest.mark.spec("RFC 7493 §2.1")
def test_unescaped_surrogate_in_a_str_input_is_rejected() -> None:
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        parse_json('"a\ud800"')


@pytest.mark.spec("RFC 8259 §8.1")
@pytest.mark.parametrize(
    "raw",
    [
        b'"\xff"',
        b'"\xc0\xaf"',  # overlong "/"
        b'"\xed\xa0\x80"',  # a surrogate encoded as UTF-8
        b'"\xe2\x82"',  # truncated sequence
        '"é"'.encode("latin-1"),
    ],
)
def test_invalid_utf8_is_rejected(raw: bytes) -> None:
    with pytest.raises(CanonicalizationError, match="not UTF-8 at byte 1"):
        parse_json(raw)


@pytest.mark.spec("RFC 8259 §8.1")
@pytest.mark.parametrize("data", [b'\xef\xbb\xbf{"a": 1}', '\ufeff{"a": 1}'])
def test_byte_order_mark_is_rejected(data: bytes | str) -> None:
    with pytest.raises(CanonicalizationError, match="byte order mark"):
        parse_json(data)


@pytest.mark.spec("RFC 7493 §2.2")
@pytest.mark.parametrize("number", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0])
def test_integers_in_safe_range_are_accepted(number: int) -> None:
    assert parse_json(f"[{number}]") == [number]


@pytest.mark.spec("RFC 7493 §2.2")
@pytest.mark.parametrize(
    "literal",
    [str(MAX_SAFE_INTEGER + 1), str(-MAX_SAFE_INTEGER - 1), "9007199254740993", "1" * 5000],
)
def test_integers_beyond_safe_range_are_rejected(literal: str) -> None:
    with pytest.raises(CanonicalizationError, match=r"outside ±\(2\*\*53 - 1\)"):
        parse_json(f'{{"n": {literal}}}')


@pytest.mark.spec("RFC 7493 §2.2")
@pytest.mark.parametrize("literal", ["1e309", "-1E400", "1" * 400 + ".0"])
def test_overflowing_numbers_are_rejected(literal: str) -> None:
    with pytest.raises(CanonicalizationError, match="overflows an IEEE 754 double"):
        parse_json(f"[{literal}]")


@pytest.mark.spec("RFC 7493 §2.2")
def test_largest_double_is_accepted() -> None:
    assert parse_json("[1.7976931348623157e308, 5e-324]") == [1.7976931348623157e308, 5e-324]


@pytest.mark.spec("RFC 8259 §2")
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": 1} x', "line 1 column 10"),
        ("{'a': 1}", "line 1 column 2"),
        ('{"a": 1,}', "line 1 column 9"),
        ("", "line 1 column 1"),
        ("[1,\n 2,\n ]", "line 3 column 2"),
        ('"tab\there"', "line 1 column 5"),
    ],
)
def test_syntax_errors_report_their_position(text: str, where: str) -> None:
    with pytest.raises(CanonicalizationError, match=f"invalid JSON: .* at {where}$"):
        parse_json(text)


@pytest.mark.spec("Kula limits: size")
def test_size_limit_is_inclusive_and_counts_utf8_bytes() -> None:
    document = '["' + "a" * 10 + '"]'
    assert parse_json(document, max_bytes=len(document)) == ["a" * 10]
    with pytest.raises(LimitError, match="15 bytes exceeds the 14-byte limit"):
        parse_json(document + " ", max_bytes=14)
    # Two characters, four bytes: the limit is on the wire size.
    with pytest.raises(LimitError, match="6 bytes exceeds the 5-byte limit"):
        parse_json('"éé"', max_bytes=5)
    with pytest.raises(LimitError):
        parse_json(b"0" * (DEFAULT_MAX_BYTES + 1))


def _nested(depth: int) -> str:
    """Alternate objects and arrays, ``depth`` containers deep."""
    text = "1"
    for level in range(depth):
        text = f'{{"k": {text}}}' if level % 2 else f"[{text}]"
    return text


@pytest.mark.spec("Kula limits: depth")
@pytest.mark.parametrize("limit", [1, 5, DEFAULT_MAX_DEPTH])
def test_depth_limit_is_exact(limit: int) -> None:
    assert parse_json(_nested(limit), max_depth=limit) == json.loads(_nested(limit))
    with pytest.raises(LimitError, match=f"deeper than {limit} levels"):
        parse_json(_nested(limit + 1), max_depth=limit)


@pytest.mark.spec("Kula limits: depth")
def test_depth_limit_applies_deep_inside_a_wide_document() -> None:
    wide = [[{"n": i}] for i in range(40)] + [json.loads(_nested(6))]
    text = json.dumps(wide)
    assert parse_json(text, max_depth=7) == wide
    with pytest.raises(LimitError):
        parse_json(text, max_depth=6)


@pytest.mark.spec("Kula limits: depth")
def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    document = {"content": "[[[[{{{{" * 20, "tags": ["[", "{"] * 30}
    assert parse_json(json.dumps(document), max_depth=2) == document


@pytest.mark.spec("Kula limits: depth")
def test_pathological_nesting_is_a_limit_error_not_a_crash() -> None:
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(LimitError, match="deeper than"):
        parse_json(text)


@pytest.mark.spec("Kula limits: members")
def test_member_limit_counts_members_and_items_at_every_level() -> None:
    # 1 (top-level "a") + 3 items + 2 members of the inner object = 6
    text = '{"a": [1, 2, {"b": 1, "c": [], "d": ""}]}'
    assert parse_json(text, max_members=7)
    with pytest.raises(LimitError, match="more than 6 members"):
        parse_json(text, max_members=6)


@pytest.mark.spec("Kula limits: members")
def test_member_limit_on_a_long_flat_array() -> None:
    text = json.dumps(list(range(DEFAULT_MAX_MEMBERS)))
    assert len(parse_json(text)) == DEFAULT_MAX_MEMBERS
    with pytest.raises(LimitError, match=f"more than {DEFAULT_MAX_MEMBERS} members"):
        parse_json(json.dumps(list(range(DEFAULT_MAX_MEMBERS + 1))))


@pytest.mark.spec("Kula limits: members")
def test_commas_inside_strings_do_not_count_as_members() -> None:
    document = {"content": "," * 500}
    assert parse_json(json.dumps(document), max_members=1) == document


_TEXT = st.text(st.characters(exclude_categories=["Cs"]))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_TEXT, children, max_size=6),
    max_leaves=40,
)


@pytest.mark.spec("RFC 7493 §2")
@settings(database=None, max_examples=300)
@given(JSON_VALUES, st.booleans())
def test_any_ijson_document_parses_like_the_stdlib(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert parse_json(text) == json.loads(text)
    assert parse_json(text.encode("utf-8")) == json.loads(text)
