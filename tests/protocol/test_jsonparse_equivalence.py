"""Strict JSON parsing's shortcuts (the C scanner called directly, the
surrogate and shape walks run only when a scan of the text says they could
fail) answer exactly as the checks run the long way, on inputs chosen to hit
every rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import jsonparse
from protocol.errors import CanonicalizationError, LimitError, ProtocolError
from protocol.jsonparse import DEFAULT_MAX_BYTES, parse_json


def _reference_decode(data: bytes | bytearray | memoryview | str, max_bytes: int) -> str:
    if isinstance(data, str):
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise CanonicalizationError(
                f"invalid JSON: lone surrogate at character {exc.start}"
            ) from exc
        if size > max_bytes:
            raise LimitError(f"JSON document of {size} bytes exceeds the {max_bytes}-byte limit")
        text = data
    else:
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise LimitError(
                f"JSON document of {len(raw)} bytes exceeds the {max_bytes}-byte limit"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(
                f"invalid JSON: not UTF-8 at byte {exc.start} ({exc.reason})"
            ) from exc
    if text.startswith("\ufeff"):
        raise CanonicalizationError("invalid JSON: starts with a byte order mark")
    return text


_REFERENCE_DECODER = json.JSONDecoder(
    object_pairs_hook=jsonparse._object_from_pairs,
    parse_constant=jsonparse._reject_constant,
    parse_int=jsonparse._parse_int,
    parse_float=jsonparse._parse_float,
)


def reference_parse(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int, max_depth: int,
    max_members: int,
) -> Any:
    """parse_json through JSONDecoder.decode, with the surrogate and shape walks
    always run instead of only when a scan of the text says they could fail."""
    text = _reference_decode(data, max_bytes)
    try:
        value = _REFERENCE_DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise CanonicalizationError(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise LimitError(f"JSON nesting deeper than {max_depth} levels") from exc
    jsonparse._reject_lone_surrogates(value)
    jsonparse._check_shape(value, max_depth, max_members)
    return value


def outcome(parse: Any, data: Any, **limits: int) -> tuple[object, str]:
    try:
        return "value", repr(parse(data, **limits))  # repr: key order and -0.0 count too
    except ProtocolError as exc:
        return type(exc).__name__, exc.detail


_WS = st.sampled_from(["", "", " ", "\n", "\t", "\r\n "])
_KEYS = st.sampled_from([
    '"a"', '"\\u0061"', '"\\u0041"', '"A"', '"b"', '"\\ud800"', '"\\uDC00x"',
    '"\\ud83d\\ude02"', '"😂"', '"\\\\ud800"', '"é"', '"{[,:"', '""',
])
_SCALARS = st.sampled_from([
    '"x"', '"\\ud800"', '"a\\udfff"', '"\\uDBFF\\uDFFF"', '"\\\\udfff"', '"\\"q\\""', '"\\/"',
    '"[[{{,,"', '"tab\there"', "0", "-0", "1.5", "-0.0", "1E2", "9007199254740991",
    "-9007199254740991", "9007199254740992", "-9007199254740992", "12345678901234567890",
    "1e309", "-1e400", "1.7976931348623157e308", "5e-324", "NaN", "Infinity", "-Infinity",
    "01", "1.", "true", "false", "null", "nul",
])


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    items = st.lists(st.tuples(_WS, children, _WS), max_size=4)
    members = st.lists(st.tuples(_WS, _KEYS, _WS, _WS, children, _WS), max_size=4)
    return (
        items.map(lambda found: "[" + ",".join("".join(item) for item in found) + "]")
        | members.map(lambda found: "{" + ",".join(
            f"{w1}{key}{w2}:{w3}{value}{w4}" for w1, key, w2, w3, value, w4 in found
        ) + "}")
    )


_VALUES = st.recursive(_SCALARS, _containers, max_leaves=25)


@st.composite
def documents(draw: st.DrawFn) -> tuple[Any, dict[str, int]]:
    text = draw(_WS) + draw(_VALUES) + draw(_WS)
    mutation = draw(st.sampled_from(
        ["none", "none", "none", "bom", "garbage", "truncate", "surrogate", "deep"]
    ))
    if mutation == "bom":
        text = "\ufeff" + text
    elif mutation == "garbage":
        text += draw(st.sampled_from(["x", ",", "]", "}", " 1", "\x00"]))
    elif mutation == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif mutation == "surrogate":  # a raw lone surrogate: refused in a str, not UTF-8 in bytes
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "\ud800" + text[at:]
    elif mutation == "deep":
        depth = draw(st.integers(1, 12))
        text = "[" * depth + text + "]" * depth
    encoded = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and mutation == "none":
        at = draw(st.integers(0, len(encoded)))
        encoded = encoded[:at] + draw(st.sampled_from([b"\xff", b"\xc0\xaf", b"\xe2\x82"])) \
            + encoded[at:]
    form = draw(st.sampled_from(["str", "bytes", "bytearray", "memoryview"]))
    data: Any = {
        "str": text, "bytes": encoded, "bytearray": bytearray(encoded),
        "memoryview": memoryview(encoded),
    }[form]
    limits = {
        "max_bytes": draw(st.sampled_from([DEFAULT_MAX_BYTES, len(encoded), len(encoded) - 1])),
        "max_depth": draw(st.integers(1, 10)),
        "max_members": draw(st.integers(1, 40)),
    }
    return data, limits


@pytest.mark.spec("RFC 7493 §2")
@settings(database=None, max_examples=400, deadline=None)
@given(documents())
def test_parse_json_answers_as_the_unconditional_checks(
    document: tuple[Any, dict[str, int]],
) -> None:
    data, limits = document
    assert outcome(parse_json, data, **limits) == outcome(reference_parse, data, **limits)


@pytest.mark.spec("RFC 7493 §2")
@pytest.mark.parametrize(
    "text",
    [
        '{"a": {"b": [{"c": 1, "\\u0063": 2}]}}',  # an escaped duplicate, three levels down
        '[{"\\ud800": 1}]',
        '{"k": "\\\\ud800 is text"}',
        '{"k": "\\\\\\ud800"}',  # an escaped backslash, then a real lone surrogate escape
        " \t\r\n[1] \n",
        "[1] x",
        "",
        "   ",
        "[" * 100_000 + "]" * 100_000,
        "[" * 33 + "]" * 33,
        json.dumps(list(range(10_001))),
    ],
)
def test_parse_json_answers_as_the_unconditional_checks_on_edge_cases(text: str) -> None:
    limits = {"max_bytes": DEFAULT_MAX_BYTES, "max_depth": 32, "max_members": 10_000}
    for data in (text, text.encode("utf-8")):
        assert outcome(parse_json, data, **limits) == outcome(reference_parse, data, **limits)
