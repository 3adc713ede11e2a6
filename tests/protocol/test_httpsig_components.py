"""RFC 9421 §2 component values, checked against the RFC's own examples."""

from __future__ import annotations

import pytest

from protocol.httpsig import (
    HttpMessage,
    HttpSignatureError,
    Reason,
    build_signature_base,
    component_value,
    parse_component,
)

REQUEST = HttpMessage.for_request(
    "POST", "https://www.example.com/path?param=value", [("Host", "www.example.com")]
)
FIELDS = [
    ("Host", "www.example.com"),
    ("X-OWS-Header", "   Leading and trailing whitespace.   "),
    ("X-Obs-Fold-Header", "Obsolete\n    line folding."),
    ("Cache-Control", "max-age=60"),
    ("Cache-Control", "   must-revalidate"),
    ("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
    ("Example-Header", "value, with, lots"),
    ("Example-Header", "of, commas"),
]
FIELD_MESSAGE = HttpMessage.for_request("GET", "https://www.example.com/", FIELDS)


def _value(message: HttpMessage, identifier: str) -> str:
    return component_value(message, parse_component(identifier))


@pytest.mark.spec("RFC 9421 §2.2")
@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("@method", "POST"),
        ("@target-uri", "https://www.example.com/path?param=value"),
        ("@authority", "www.example.com"),
        ("@scheme", "https"),
        ("@request-target", "/path?param=value"),
        ("@path", "/path"),
        ("@query", "?param=value"),
    ],
)
def test_derived_components(identifier: str, expected: str) -> None:
    assert _value(REQUEST, identifier) == expected


@pytest.mark.spec("RFC 9421 §2.2.7")
def test_query_absent_is_a_lone_question_mark() -> None:
    message = HttpMessage.for_request("GET", "https://www.example.com/path", None)
    assert _value(message, "@query") == "?"
    assert _value(message, "@request-target") == "/path"


@pytest.mark.spec("RFC 9421 §2.2.3")
def test_authority_drops_default_port_and_lowercases() -> None:
    message = HttpMessage.for_request("GET", "HTTPS://WWW.Example.com:443/", None)
    assert _value(message, "@authority") == "www.example.com"
    assert _value(message, "@scheme") == "https"
    other_port = HttpMessage.for_request("GET", "http://example.com:8080/", None)
    assert _value(other_port, "@authority") == "example.com:8080"


@pytest.mark.spec("RFC 9421 §2.2.8")
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("var", "this%20is%20a%20big%0Avalue"),
        ("bar", "with%20plus%20whitespace"),
        ("fa%C3%A7ade%22%3A%20", "something"),
    ],
)
def test_query_param_values_are_reencoded(name: str, expected: str) -> None:
    query = (
        "var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
    )
    message = HttpMessage.for_request("GET", f"https://www.example.com/parameters?{query}", None)
    assert _value(message, f'@query-param;name="{name}"') == expected


@pytest.mark.spec("RFC 9421 §2.2.8")
def test_query_param_lines_in_a_base() -> None:
    url = "https://www.example.com/path?param=value&foo=bar&baz=batman&qux="
    message = HttpMessage.for_request("GET", url, None)
    names = [
        '"@query-param";name="baz"',
        '"@query-param";name="qux"',
        '"@query-param";name="param"',
    ]
    base = build_signature_base(message, names, {"created": 1})
    assert base.split("\n")[:3] == [
        '"@query-param";name="baz": batman',
        '"@query-param";name="qux": ',
        '"@query-param";name="param": value',
    ]


@pytest.mark.spec("RFC 9421 §2.2.8")
def test_query_param_absent_or_repeated() -> None:
    message = HttpMessage.for_request("GET", "https://example.com/?a=1&a=2", None)
    with pytest.raises(HttpSignatureError) as excinfo:
        _value(message, '@query-param;name="b"')
    assert excinfo.value.reason is Reason.MISSING_HEADER
    with pytest.raises(HttpSignatureError) as excinfo:
        _value(message, '@query-param;name="a"')
    assert excinfo.value.reason is Reason.INVALID_COMPONENT


@pytest.mark.spec("RFC 9421 §2.1")
@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("x-ows-header", "Leading and trailing whitespace."),
        ("x-obs-fold-header", "Obsolete line folding."),
        ("cache-control", "max-age=60, must-revalidate"),
        ("example-dict", "a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
    ],
)
def test_field_values_are_trimmed_and_combined(identifier: str, expected: str) -> None:
    assert _value(FIELD_MESSAGE, identifier) == expected


@pytest.mark.spec("RFC 9421 §2.1.1")
def test_sf_reserialises() -> None:
    assert _value(FIELD_MESSAGE, "example-dict;sf") == "a=1, b=2;x=1;y=2, c=(a b c)"


@pytest.mark.spec("RFC 9421 §2.1.2")
@pytest.mark.parametrize(("key", "expected"), [("a", "1"), ("b", "2;x=1;y=2"), ("c", "(a b c)")])
def test_key_selects_a_dictionary_member(key: str, expected: str) -> None:
    assert _value(FIELD_MESSAGE, f'example-dict;key="{key}"') == expected


@pytest.mark.spec("RFC 9421 §2.1.3")
def test_bs_wraps_each_line() -> None:
    expected = ":dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:"
    assert _value(FIELD_MESSAGE, "example-header;bs") == expected


@pytest.mark.spec("RFC 9421 §2.4")
def test_req_reads_from_the_request() -> None:
    response = HttpMessage.for_response(503, [("Content-Type", "text/plain")], request=REQUEST)
    assert _value(response, "@status") == "503"
    assert _value(response, "@authority;req") == "www.example.com"
    assert _value(response, "host;req") == "www.example.com"
    with pytest.raises(HttpSignatureError):
        _value(HttpMessage.for_response(200, None), "@method;req")


@pytest.mark.spec("RFC 9421 §2.2.9")
def test_status_only_on_responses_and_method_only_on_requests() -> None:
    with pytest.raises(HttpSignatureError) as excinfo:
        _value(REQUEST, "@status")
    assert excinfo.value.reason is Reason.INVALID_COMPONENT
    with pytest.raises(HttpSignatureError):
        _value(HttpMessage.for_response(200, None), "@method")


@pytest.mark.spec("RFC 9421 §2.5")
@pytest.mark.parametrize(
    "identifier",
    ['"Host"', "@unknown", "example-dict;sf;bs", "example-dict;tr", '@path;name="x"', '"a" junk'],
)
def test_invalid_identifiers(identifier: str) -> None:
    with pytest.raises(HttpSignatureError) as excinfo:
        _value(FIELD_MESSAGE, identifier)
    assert excinfo.value.reason is Reason.INVALID_COMPONENT


@pytest.mark.spec("RFC 9421 §2.5")
def test_duplicate_components_are_refused() -> None:
    with pytest.raises(HttpSignatureError) as excinfo:
        build_signature_base(REQUEST, ["@method", "@method"], {"created": 1})
    assert excinfo.value.reason is Reason.INVALID_COMPONENT
