"""The shortcuts on the verification hot path answer exactly as the general code they skip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.httpsig import (
    HttpMessage,
    HttpSignatureError,
    PublicKey,
    Reason,
    algorithms,
    cavage,
    generate_ed25519_key,
    generate_rsa_key,
    parse_signature_header,
    policy,
    sign_request,
    verify_request,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://kula.example/inbox"
BODY = b'{"type": "Create", "actor": "https://remote.example/users/ana"}'
RSA_KEY = generate_rsa_key()
ED_KEY = generate_ed25519_key()
MASTODON_STYLE = (
    'keyId="https://remote.example/users/ana#main-key",algorithm="rsa-sha256",'
    'headers="(request-target) host date digest content-type",'
    'signature="' + "QUJD" * 86 + '"'
)

# Characters that steer the parameter grammar one way or the other.
_TRICKY = 'aK="\\,= \t\n0é١'
_names = st.sampled_from(["keyId", "signature", "headers", "algorithm", "created", "x", ""]) | (
    st.text(alphabet=_TRICKY, max_size=4)
)
_values = st.text(alphabet=_TRICKY + "b/+", max_size=8)
_parameter = st.tuples(
    _names, st.sampled_from(['="{}"', "={}", '= "{}"', '="{}" ']), _values
).map(lambda parts: parts[0] + parts[1].format(parts[2]))
# Mostly what the shortcut takes, with the odd character that must send it to the grammar.
_plain_parameter = st.tuples(_names, _values).map(lambda parts: f'{parts[0]}="{parts[1]}"')
_plain_headers = st.lists(_plain_parameter, min_size=1, max_size=4).map(",".join)
_headers = _plain_headers | st.tuples(
    st.lists(_parameter, max_size=5),
    st.sampled_from([",", ", ", ",,"]),
    st.sampled_from(["", ",", "\n"]),
).map(lambda parts: parts[1].join(parts[0]) + parts[2]) | st.text(alphabet=_TRICKY, max_size=30)


def _outcome(value: str) -> tuple[Any, ...]:
    try:
        return ("parsed", parse_signature_header(value))
    except HttpSignatureError as exc:
        return ("refused", exc.reason, str(exc))


def _outcome_without_shortcut(value: str) -> tuple[Any, ...]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cavage, "_scan_plain_params", lambda value: None)
        return _outcome(value)


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1")
def test_the_usual_header_takes_the_shortcut_and_reads_as_the_grammar_does() -> None:
    shortcut = cavage._scan_plain_params(MASTODON_STYLE)
    assert shortcut is not None
    assert shortcut == cavage._match_params(MASTODON_STYLE)
    assert _outcome(MASTODON_STYLE) == _outcome_without_shortcut(MASTODON_STYLE)


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1")
@pytest.mark.parametrize(
    "value",
    [
        MASTODON_STYLE,
        MASTODON_STYLE + ",",
        MASTODON_STYLE + "\n",
        MASTODON_STYLE.replace(",", ", "),
        MASTODON_STYLE.replace('keyId="', 'keyId="a\\"b'),
        MASTODON_STYLE + ',created=1714564800,expires="1714565100"',
        MASTODON_STYLE + ',keyid="again"',
        MASTODON_STYLE + ',nämlich="x"',
        'keyId="k",signature=""',
        'keyId="a\\b",signature="QUJD"',
        'keyId="k",signature="QUJD",headers=""',
        'keyId="k",signature="Q"',
        'keyId="k",signature="QUJD',
        '"',
        "",
    ],
)
def test_edge_headers_read_the_same_with_and_without_the_shortcut(value: str) -> None:
    assert _outcome(value) == _outcome_without_shortcut(value)


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1")
@settings(max_examples=400, deadline=None)
@given(_headers)
def test_whatever_the_shortcut_accepts_the_grammar_reads_alike(value: str) -> None:
    shortcut = cavage._scan_plain_params(value)
    if shortcut is not None:
        assert cavage._match_params(value) == shortcut
    assert _outcome(value) == _outcome_without_shortcut(value)


def _signed(now: datetime) -> dict[str, str]:
    return sign_request(
        "POST", URL, {"Content-Type": "application/activity+json"}, BODY,
        key_id="https://remote.example/users/ana#main-key", private_key=RSA_KEY, now=now,
    )


async def _reason(headers: dict[str, str], now: datetime | None) -> Reason | None:
    async def resolve(key_id: str, refresh: bool) -> PublicKey:
        return RSA_KEY.public_key()

    try:
        await verify_request("POST", URL, headers, BODY, key_resolver=resolve, now=now)
    except HttpSignatureError as exc:
        return exc.reason
    return None


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.4")
async def test_a_remembered_date_is_judged_against_each_requests_clock() -> None:
    headers = _signed(NOW)
    assert await _reason(headers, NOW) is None
    assert await _reason(headers, NOW + timedelta(hours=1)) == Reason.DATE_OUT_OF_WINDOW
    assert await _reason(headers, NOW) is None


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.4")
async def test_an_unreadable_date_is_refused_every_time() -> None:
    headers = {**_signed(NOW), "Date": "Wed, 99 Foo 2024 12:00:00 GMT"}
    for _ in range(2):
        assert await _reason(headers, NOW) == Reason.MALFORMED_HEADER


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.4")
async def test_without_now_the_wall_clock_decides() -> None:
    assert await _reason(_signed(datetime.now(UTC)), None) is None
    stale = _signed(datetime.now(UTC) - timedelta(hours=1))
    assert await _reason(stale, None) == Reason.DATE_OUT_OF_WINDOW


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.6; RFC 9421 §3.2")
@pytest.mark.parametrize(
    ("required", "message"),
    [
        (["host", ["b", "a"]], "signature does not cover a or b"),
        ([frozenset({"digest", "(created)"})], "signature does not cover (created) or digest"),
        (["digest"], "signature does not cover digest"),
        ([()], "signature does not cover "),
        (["host", ("zz", "(request-target)")], None),
    ],
)
def test_coverage_requirements_of_every_shape(required: list[Any], message: str | None) -> None:
    covered = ("(request-target)", "host", "date")
    if message is None:
        policy.check_coverage(covered, required)
        return
    with pytest.raises(HttpSignatureError) as excinfo:
        policy.check_coverage(covered, required)
    assert excinfo.value.reason == Reason.MISSING_COMPONENT
    assert str(excinfo.value) == f"missing-component: {message}"


@pytest.mark.spec("RFC 9421 §3.3.7")
@pytest.mark.parametrize("algorithm", sorted(algorithms.SUPPORTED))
def test_key_kinds_are_told_apart_as_isinstance_would(algorithm: str) -> None:
    keys: list[Any] = [
        RSA_KEY, RSA_KEY.public_key(), ED_KEY, ED_KEY.public_key(), b"secret", "not a key",
    ]
    expected_kinds = {
        algorithms.RSA_V1_5_SHA256: algorithms._RSA_TYPES,
        algorithms.RSA_PSS_SHA512: algorithms._RSA_TYPES,
        algorithms.ED25519: algorithms._ED25519_TYPES,
        algorithms.HMAC_SHA256: (bytes,),
    }
    for _ in range(2):  # the second round answers from what the first remembered
        for key in keys:
            fits = isinstance(key, expected_kinds.get(algorithm, ()))
            if fits:
                algorithms.check_algorithm_and_key(algorithm, key)
                continue
            with pytest.raises(HttpSignatureError) as excinfo:
                algorithms.check_algorithm_and_key(algorithm, key)
            assert excinfo.value.reason == Reason.ALGORITHM_KEY_MISMATCH


@pytest.mark.spec("RFC 9421 §2.2.6")
def test_the_split_url_is_computed_once_and_errors_every_time() -> None:
    message = HttpMessage.for_request("GET", "https://kula.example/inbox?page=2", {})
    assert (message.path, message.query, message.authority) == ("/inbox", "page=2", "kula.example")
    twin = HttpMessage(fields=message.fields, method="GET", url="https://kula.example/inbox?page=2")
    assert message == twin and hash(message) == hash(twin)  # the remembered split is no field
    broken = HttpMessage.for_request("GET", "https://[::1/inbox", {})
    for _ in range(2):
        with pytest.raises(ValueError):
            _ = broken.path
