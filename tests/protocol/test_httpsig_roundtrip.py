"""Sign then verify, for both schemes and both key types, and key rotation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from protocol.errors import KeyFormatError
from protocol.httpsig import (
    HttpSignatureError,
    PublicKey,
    Reason,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
    public_key_to_pem,
    sign_request,
    verify_request,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KEYS = {"rsa": generate_rsa_key(), "ed25519": generate_ed25519_key()}
EXPECTED_ALGORITHM = {"rsa": "rsa-v1_5-sha256", "ed25519": "ed25519"}
KEY_ID = "https://remote.example/users/ana#main-key"


class RecordingResolver:
    """Returns ``keys[0]`` for cached look-ups and ``keys[1]`` after a refresh."""

    def __init__(self, cached: PublicKey, fresh: PublicKey | None = None) -> None:
        self.cached = cached
        self.fresh = cached if fresh is None else fresh
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, refresh: bool) -> PublicKey:
        self.calls.append((key_id, refresh))
        return self.fresh if refresh else self.cached


def _sign(kind: str, scheme: str, url: str, body: bytes | None, **extra: Any) -> dict[str, str]:
    return sign_request(
        "POST",
        url,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=KEY_ID,
        private_key=KEYS[kind],
        scheme=scheme,
        now=NOW,
        **extra,
    )


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1; RFC 9421 §3.1")
@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
@pytest.mark.parametrize("body", [b'{"type": "Follow"}', None])
async def test_round_trip(scheme: str, kind: str, body: bytes | None) -> None:
    url = "https://kula.example/users/bo/inbox"
    headers = _sign(kind, scheme, url, body)
    resolver = RecordingResolver(KEYS[kind].public_key())
    result = await verify_request("POST", url, headers, body, key_resolver=resolver, now=NOW)
    assert (result.scheme, result.key_id) == (scheme, KEY_ID)
    assert result.algorithm == EXPECTED_ALGORITHM[kind]
    assert resolver.calls == [(KEY_ID, False)]
    has_digest = "digest" in result.covered or "content-digest" in result.covered
    assert has_digest is (body is not None)


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.3")
def test_cavage_default_algorithm_names() -> None:
    url = "https://kula.example/inbox"
    assert 'algorithm="rsa-sha256"' in _sign("rsa", "cavage", url, None)["Signature"]
    assert 'algorithm="hs2019"' in _sign("ed25519", "cavage", url, None)["Signature"]
    hs2019 = _sign("rsa", "cavage", url, None, algorithm="hs2019")["Signature"]
    assert 'algorithm="hs2019"' in hs2019


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.3")
async def test_hs2019_with_rsa_key_verifies() -> None:
    url = "https://kula.example/inbox"
    headers = _sign("rsa", "cavage", url, b"{}", algorithm="hs2019")
    resolver = RecordingResolver(KEYS["rsa"].public_key())
    result = await verify_request("POST", url, headers, b"{}", key_resolver=resolver, now=NOW)
    assert result.algorithm == "rsa-v1_5-sha256"


@pytest.mark.spec("RFC 9421 §2.3")
def test_rfc9421_default_coverage_and_parameters() -> None:
    headers = _sign("ed25519", "rfc9421", "https://kula.example/inbox", b"{}")
    created = int(NOW.timestamp())
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-digest")'
        f';created={created};keyid="{KEY_ID}";alg="ed25519"'
    )
    assert headers["Host"] == "kula.example"
    assert headers["Date"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert headers["Content-Digest"].startswith("sha-256=:")


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.6")
def test_cavage_default_coverage() -> None:
    headers = _sign("rsa", "cavage", "https://kula.example:8443/inbox", b"{}")
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    assert headers["Host"] == "kula.example:8443"
    assert headers["Digest"].startswith("SHA-256=")


@pytest.mark.spec("RFC 9110 §5.3")
@pytest.mark.parametrize("shape", ["lower-dict", "pairs", "multidict"])
async def test_header_containers_are_case_insensitive(shape: str) -> None:
    url = "https://kula.example/inbox"
    signed = _sign("ed25519", "rfc9421", url, b"{}")
    containers: dict[str, Any] = {
        "lower-dict": {name.lower(): value for name, value in signed.items()},
        "pairs": [(name.upper(), value) for name, value in signed.items()],
        "multidict": CIMultiDict(signed),
    }
    resolver = RecordingResolver(KEYS["ed25519"].public_key())
    result = await verify_request(
        "POST", url, containers[shape], b"{}", key_resolver=resolver, now=NOW
    )
    assert result.scheme == "rfc9421"


@pytest.mark.spec("draft-cavage-http-signatures-12 §3.1")
async def test_cavage_in_authorization_header() -> None:
    url = "https://kula.example/inbox"
    headers = _sign("rsa", "cavage", url, b"{}")
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    resolver = RecordingResolver(KEYS["rsa"].public_key())
    result = await verify_request("POST", url, headers, b"{}", key_resolver=resolver, now=NOW)
    assert result.scheme == "cavage"


@pytest.mark.spec("RFC 9421 §2.2.8")
async def test_query_param_component_round_trip() -> None:
    url = "https://kula.example/search?q=bike%20lock&page=2"
    components = ["@method", "@target-uri", '@query-param;name="q"']
    headers = _sign("ed25519", "rfc9421", url, None, components=components)
    resolver = RecordingResolver(KEYS["ed25519"].public_key())
    result = await verify_request("POST", url, headers, None, key_resolver=resolver, now=NOW)
    assert '@query-param;name="q"' in result.covered
    moved = "https://kula.example/search?q=bike%20chain&page=2"
    with pytest.raises(HttpSignatureError) as excinfo:
        await verify_request("POST", moved, headers, None, key_resolver=resolver, now=NOW)
    assert excinfo.value.reason is Reason.BAD_SIGNATURE


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.1")
@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_key_rotation_refreshes_once(scheme: str) -> None:
    url = "https://kula.example/inbox"
    headers = _sign("ed25519", scheme, url, b"{}")
    stale = generate_ed25519_key().public_key()
    resolver = RecordingResolver(stale, KEYS["ed25519"].public_key())
    result = await verify_request("POST", url, headers, b"{}", key_resolver=resolver, now=NOW)
    assert result.key_id == KEY_ID
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.1")
async def test_key_rotation_to_a_new_key_type() -> None:
    url = "https://kula.example/inbox"
    headers = _sign("ed25519", "cavage", url, b"{}")
    resolver = RecordingResolver(KEYS["rsa"].public_key(), KEYS["ed25519"].public_key())
    result = await verify_request("POST", url, headers, b"{}", key_resolver=resolver, now=NOW)
    assert result.algorithm == "ed25519"
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.1")
async def test_refresh_returning_the_same_key_does_not_retry() -> None:
    url = "https://kula.example/inbox"
    headers = _sign("ed25519", "rfc9421", url, b"{}")
    stale = generate_ed25519_key().public_key()
    resolver = RecordingResolver(stale)
    with pytest.raises(HttpSignatureError) as excinfo:
        await verify_request("POST", url, headers, b"{}", key_resolver=resolver, now=NOW)
    assert excinfo.value.reason is Reason.BAD_SIGNATURE
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.1")
async def test_refreshed_key_that_still_fails() -> None:
    url = "https://kula.example/inbox"
    headers = _sign("rsa", "cavage", url, b"{}")
    resolver = RecordingResolver(generate_rsa_key().public_key(), generate_rsa_key().public_key())
    with pytest.raises(HttpSignatureError) as excinfo:
        await verify_request("POST", url, headers, b"{}", key_resolver=resolver, now=NOW)
    assert excinfo.value.reason is Reason.BAD_SIGNATURE
    assert len(resolver.calls) == 2


@pytest.mark.spec("RFC 7468 §10")
@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_pem_round_trip(kind: str) -> None:
    pem = public_key_to_pem(KEYS[kind])
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert public_key_to_pem(load_public_key_pem(pem)) == pem


@pytest.mark.spec("RFC 7468 §10")
def test_bad_pem_is_a_key_format_error() -> None:
    with pytest.raises(KeyFormatError):
        load_public_key_pem("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(KeyFormatError):
        load_private_key_pem(b"not a key")


_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=12)
_PATHS = st.lists(_SEGMENT, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts))
_QUERIES = st.one_of(
    st.just(""),
    st.dictionaries(_SEGMENT, _SEGMENT, min_size=1, max_size=3).map(
        lambda params: "?" + "&".join(f"{k}={v}" for k, v in params.items())
    ),
)


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.3; RFC 9421 §2.5")
@settings(max_examples=40, deadline=None)
@given(
    body=st.one_of(st.none(), st.binary(max_size=2048)),
    path=_PATHS,
    query=_QUERIES,
    scheme=st.sampled_from(["cavage", "rfc9421"]),
    kind=st.sampled_from(["rsa", "ed25519"]),
)
def test_round_trip_property(
    body: bytes | None, path: str, query: str, scheme: str, kind: str
) -> None:
    url = f"https://kula.example{path}{query}"
    headers = _sign(kind, scheme, url, body)
    resolver = RecordingResolver(KEYS[kind].public_key())

    async def verify(target: str, payload: bytes | None) -> Any:
        return await verify_request(
            "POST", target, headers, payload, key_resolver=resolver, now=NOW
        )

    assert asyncio.run(verify(url, body)).scheme == scheme
    with pytest.raises(HttpSignatureError) as excinfo:
        asyncio.run(verify(f"https://kula.example{path}/x{query}", body))
    assert excinfo.value.reason is Reason.BAD_SIGNATURE
    if body is not None:
        with pytest.raises(HttpSignatureError) as excinfo:
            asyncio.run(verify(url, body + b"!"))
        assert excinfo.value.reason is Reason.DIGEST_MISMATCH
