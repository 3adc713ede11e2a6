"""Tampering with a signed request must fail, and fail for the right reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.errors import DigestError, SignatureError
from protocol.httpsig import (
    HttpSignatureError,
    PublicKey,
    Reason,
    generate_ed25519_key,
    generate_rsa_key,
    public_key_to_pem,
    sign_request,
    verify_request,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://kula.example/inbox?page=2"
BODY = b'{"type": "Offer", "actor": "https://remote.example/users/ana"}'
RSA_KEY = generate_rsa_key()
ED_KEY = generate_ed25519_key()
OTHER_RSA_KEY = generate_rsa_key()
KEYS = {"rsa": RSA_KEY, "ed25519": ED_KEY}
SCHEMES = ["cavage", "rfc9421"]

Resolver = Callable[[str, bool], Awaitable[PublicKey | None]]


def _resolver(key: Any) -> Resolver:
    async def resolve(key_id: str, refresh: bool) -> PublicKey | None:
        return key if key_id.startswith("https://remote.example/") else None

    return resolve


def _signed(scheme: str, kind: str = "rsa", **overrides: Any) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "key_id": f"https://remote.example/users/ana#{kind}",
        "private_key": KEYS[kind],
        "scheme": scheme,
        "now": NOW,
    }
    arguments.update(overrides)
    return sign_request(
        "POST", URL, {"Content-Type": "application/activity+json"}, BODY, **arguments
    )


async def _verify(
    headers: Any,
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    key: Any = None,
    now: datetime = NOW,
    **policy: Any,
) -> Any:
    public = key if key is not None else RSA_KEY.public_key()
    return await verify_request(
        method, url, headers, body, key_resolver=_resolver(public), now=now, **policy
    )


async def _reason(headers: Any, **kwargs: Any) -> Reason:
    with pytest.raises(HttpSignatureError) as excinfo:
        await _verify(headers, **kwargs)
    assert isinstance(excinfo.value, SignatureError)
    return excinfo.value.reason


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.5; RFC 9421 §3.2")
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_untampered_request_verifies(scheme: str) -> None:
    result = await _verify(_signed(scheme))
    assert result.scheme == scheme


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3; RFC 9421 §2.2.1")
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_changed_method(scheme: str) -> None:
    assert await _reason(_signed(scheme), method="PUT") is Reason.BAD_SIGNATURE


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3; RFC 9421 §2.2.2")
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "url", ["https://kula.example/outbox?page=2", "https://kula.example/inbox?page=3"]
)
async def test_changed_path_or_query(scheme: str, url: str) -> None:
    assert await _reason(_signed(scheme), url=url) is Reason.BAD_SIGNATURE


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3; RFC 9421 §2.2.3")
async def test_changed_host_cavage() -> None:
    headers = {**_signed("cavage"), "Host": "evil.example"}
    assert await _reason(headers) is Reason.BAD_SIGNATURE


@pytest.mark.spec("RFC 9421 §2.2.3")
async def test_changed_authority_rfc9421() -> None:
    headers = _signed("rfc9421")
    assert await _reason(headers, url="https://evil.example/inbox?page=2") is Reason.BAD_SIGNATURE


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3")
async def test_changed_covered_date_inside_window() -> None:
    headers = _signed("cavage")
    headers["Date"] = "Wed, 01 May 2024 12:00:01 GMT"
    assert await _reason(headers) is Reason.BAD_SIGNATURE


@pytest.mark.spec("RFC 9421 §2.1")
async def test_changed_covered_field_rfc9421() -> None:
    headers = _signed("rfc9421", components=["@method", "@target-uri", "content-type"])
    headers["Content-Type"] = "text/html"
    assert await _reason(headers, body=None) is Reason.BAD_SIGNATURE


@pytest.mark.spec("RFC 3230 §4.3.2; RFC 9530 §2")
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_changed_body(scheme: str) -> None:
    with pytest.raises(DigestError) as excinfo:
        await _verify(_signed(scheme), body=BODY + b" ")
    assert excinfo.value.reason is Reason.DIGEST_MISMATCH  # type: ignore[attr-defined]


@pytest.mark.spec("RFC 3230 §4.3.2; RFC 9530 §2")
@pytest.mark.parametrize(("scheme", "field"), [("cavage", "Digest"), ("rfc9421", "Content-Digest")])
async def test_digest_field_removed(scheme: str, field: str) -> None:
    headers = _signed(scheme)
    del headers[field]
    assert await _reason(headers) is Reason.DIGEST_MISSING


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.6")
async def test_digest_not_covered_cavage() -> None:
    headers = _signed("cavage", components=["(request-target)", "host", "date"])
    assert await _reason(headers) is Reason.MISSING_COMPONENT


@pytest.mark.spec("RFC 9421 §7.2.8")
async def test_digest_not_covered_rfc9421() -> None:
    headers = _signed("rfc9421", components=["@method", "@target-uri", "@authority"])
    assert await _reason(headers) is Reason.MISSING_COMPONENT


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.6")
async def test_request_target_not_covered() -> None:
    headers = _signed("cavage", components=["host", "date", "digest"])
    assert await _reason(headers) is Reason.MISSING_COMPONENT


@pytest.mark.spec("RFC 9421 §7.2.1")
async def test_target_uri_not_covered() -> None:
    headers = _signed("rfc9421", components=["@method", "@authority", "content-digest"])
    assert await _reason(headers) is Reason.MISSING_COMPONENT


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.6")
async def test_host_and_date_must_be_covered() -> None:
    headers = _signed("cavage", components=["(request-target)", "date", "digest"])
    assert await _reason(headers) is Reason.MISSING_COMPONENT
    headers = _signed("cavage", components=["(request-target)", "host", "digest"])
    assert await _reason(headers) is Reason.MISSING_COMPONENT


@pytest.mark.spec("draft-cavage-http-signatures-12 §3.1.1")
@pytest.mark.parametrize("offset", [301, -301])
async def test_date_outside_window(offset: int) -> None:
    late = NOW + timedelta(seconds=offset)
    assert await _reason(_signed("cavage"), now=late) is Reason.DATE_OUT_OF_WINDOW


@pytest.mark.spec("draft-cavage-http-signatures-12 §3.1.1")
async def test_window_is_configurable() -> None:
    late = NOW + timedelta(seconds=500)
    assert (await _verify(_signed("cavage"), now=late, max_skew=600)).scheme == "cavage"
    assert await _reason(_signed("cavage"), now=late, max_skew=60) is Reason.DATE_OUT_OF_WINDOW


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.2")
async def test_unreadable_date() -> None:
    headers = {**_signed("cavage"), "Date": "yesterday"}
    assert await _reason(headers) is Reason.MALFORMED_HEADER


@pytest.mark.spec("RFC 9421 §2.3")
@pytest.mark.parametrize("offset", [301, -301])
async def test_created_outside_window(offset: int) -> None:
    late = NOW + timedelta(seconds=offset)
    assert await _reason(_signed("rfc9421"), now=late) is Reason.CREATED_OUT_OF_WINDOW


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.4")
async def test_created_in_future_cavage() -> None:
    components = ["(request-target)", "(created)", "host", "digest"]
    created = int(NOW.timestamp()) + 3600
    headers = _signed("cavage", components=components, created=created)
    assert await _reason(headers) is Reason.CREATED_OUT_OF_WINDOW


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.5")
async def test_expired_cavage() -> None:
    components = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    expires = int(NOW.timestamp()) + 30
    headers = _signed("cavage", components=components, expires=expires)
    assert (await _verify(headers)).expires == expires
    late = NOW + timedelta(seconds=31)
    assert await _reason(headers, now=late) is Reason.EXPIRED


@pytest.mark.spec("RFC 9421 §2.3")
async def test_expired_rfc9421() -> None:
    headers = _signed("rfc9421", expires=int(NOW.timestamp()) + 30)
    assert await _reason(headers, now=NOW + timedelta(seconds=31)) is Reason.EXPIRED


@pytest.mark.spec("RFC 9421 §2.3")
async def test_created_missing_rfc9421() -> None:
    headers = _signed("rfc9421")
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        f";created={int(NOW.timestamp())}", ""
    )
    assert await _reason(headers) is Reason.MISSING_COMPONENT


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.5; RFC 9421 §3.2")
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_wrong_key(scheme: str) -> None:
    assert await _reason(_signed(scheme), key=OTHER_RSA_KEY.public_key()) is Reason.BAD_SIGNATURE


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.3")
async def test_rsa_sha256_claimed_for_ed25519_key() -> None:
    headers = _signed("cavage", kind="ed25519")
    headers["Signature"] = headers["Signature"].replace('"hs2019"', '"rsa-sha256"')
    reason = await _reason(headers, key=ED_KEY.public_key())
    assert reason is Reason.ALGORITHM_KEY_MISMATCH


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.3")
async def test_hmac_is_refused_in_cavage() -> None:
    headers = _signed("cavage")
    headers["Signature"] = headers["Signature"].replace('"rsa-sha256"', '"hmac-sha256"')
    assert await _reason(headers) is Reason.UNSUPPORTED_ALGORITHM


@pytest.mark.spec("RFC 9421 §3.3.7")
@pytest.mark.parametrize(
    ("claimed", "reason"),
    [
        ("hmac-sha256", Reason.ALGORITHM_KEY_MISMATCH),
        ("ed25519", Reason.ALGORITHM_KEY_MISMATCH),
        ("ecdsa-p256-sha256", Reason.ALGORITHM_KEY_MISMATCH),
        ("rsa-sha1", Reason.UNSUPPORTED_ALGORITHM),
    ],
)
async def test_swapped_alg_rfc9421(claimed: str, reason: Reason) -> None:
    headers = _signed("rfc9421")
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        'alg="rsa-v1_5-sha256"', f'alg="{claimed}"'
    )
    assert await _reason(headers) is reason


@pytest.mark.spec("RFC 9421 §3.3.7")
async def test_hmac_never_runs_with_a_public_key() -> None:
    # An attacker who knows the public key must not turn it into an HMAC secret.
    headers = sign_request(
        "POST",
        URL,
        None,
        BODY,
        key_id="https://remote.example/users/ana#rsa",
        private_key=public_key_to_pem(RSA_KEY).encode(),
        scheme="rfc9421",
        algorithm="hmac-sha256",
        now=NOW,
    )
    assert await _reason(headers) is Reason.ALGORITHM_KEY_MISMATCH


@pytest.mark.spec("draft-cavage-http-signatures-12 §4.1")
async def test_no_signature_at_all() -> None:
    headers = {"Host": "kula.example", "Date": "Wed, 01 May 2024 12:00:00 GMT"}
    assert await _reason(headers, body=None) is Reason.MISSING_SIGNATURE


@pytest.mark.spec("RFC 9421 §4.2")
async def test_signature_input_without_signature() -> None:
    headers = _signed("rfc9421")
    del headers["Signature"]
    assert await _reason(headers) is Reason.MISSING_SIGNATURE


@pytest.mark.spec("RFC 9421 §4.2")
async def test_label_absent_from_signature() -> None:
    headers = _signed("rfc9421")
    headers["Signature"] = headers["Signature"].replace("sig1=", "sig2=")
    assert await _reason(headers) is Reason.MISSING_SIGNATURE


@pytest.mark.spec("draft-cavage-http-signatures-12 §4.1")
@pytest.mark.parametrize(
    "mangle",
    [
        lambda value: "garbage",
        lambda value: value.replace("keyId=", "kid="),
        lambda value: value + ',keyId="twice"',
        lambda value: value.replace('signature="', 'signature="!!'),
        lambda value: value.replace('headers="(request-target) host date digest"', 'headers=""'),
    ],
    ids=["garbage", "no-keyid", "repeated-param", "not-base64", "empty-headers"],
)
async def test_malformed_cavage_header(mangle: Callable[[str], str]) -> None:
    headers = _signed("cavage")
    headers["Signature"] = mangle(headers["Signature"])
    assert await _reason(headers) is Reason.MALFORMED_HEADER


@pytest.mark.spec("RFC 9421 §4.1")
@pytest.mark.parametrize(
    ("field", "mangle"),
    [
        ("Signature-Input", lambda value: "sig1=not a list;;"),
        ("Signature-Input", lambda value: 'sig1="just a string"'),
        ("Signature", lambda value: "sig1=(1 2)"),
        ("Signature-Input", lambda value: value.replace('keyid="', 'nokeyid="')),
    ],
    ids=["unparseable", "not-inner-list", "not-bytes", "no-keyid"],
)
async def test_malformed_rfc9421_headers(field: str, mangle: Callable[[str], str]) -> None:
    headers = _signed("rfc9421")
    headers[field] = mangle(headers[field])
    assert await _reason(headers) is Reason.MALFORMED_HEADER


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3")
async def test_covered_header_absent_from_message() -> None:
    components = ["(request-target)", "host", "date", "digest", "x-kula-trace"]
    headers = sign_request(
        "POST",
        URL,
        {"X-Kula-Trace": "1"},
        BODY,
        key_id="https://remote.example/users/ana#rsa",
        private_key=RSA_KEY,
        components=components,
        now=NOW,
    )
    del headers["X-Kula-Trace"]
    assert await _reason(headers) is Reason.MISSING_HEADER


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.1")
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_unknown_key(scheme: str) -> None:
    headers = _signed(scheme, key_id="https://elsewhere.example/key")
    assert await _reason(headers) is Reason.UNKNOWN_KEY


@pytest.mark.spec("RFC 9421 §2.2")
async def test_signature_params_cannot_be_covered() -> None:
    headers = _signed("rfc9421")
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        '("@method"', '("@signature-params" "@method"'
    )
    assert await _reason(headers) is Reason.INVALID_COMPONENT


@pytest.mark.spec("RFC 9421 §3.2")
async def test_reason_is_in_the_detail() -> None:
    with pytest.raises(HttpSignatureError) as excinfo:
        await _verify(_signed("rfc9421"), method="GET")
    assert excinfo.value.detail.startswith("bad-signature")
    assert excinfo.value.code == "signature-invalid"
