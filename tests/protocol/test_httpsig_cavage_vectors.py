"""draft-cavage-http-signatures-12 Appendix C, reproduced exactly.

Caveats from tests/vectors/README.md: the key is RSA-1024 (the text says
2048); the published "All Headers" signature covers the printed signing
string, which lacks the (created)/(expires) lines, so the vector file carries
a corrected signature for the draft's own rules.
"""

from __future__ import annotations

import base64
import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from protocol.httpsig import (
    HttpMessage,
    HttpSignatureError,
    PublicKey,
    Reason,
    algorithms,
    build_signing_string,
    cavage,
    load_private_key_pem,
    load_public_key_pem,
    parse_signature_header,
    verify_request,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "cavage12_appendix_c.json").read_text()
)
REQUEST = VECTORS["request"]
URL = f"https://example.com{REQUEST['path_and_query']}"
BODY = REQUEST["body"].encode()
NOW = parsedate_to_datetime(REQUEST["headers"]["Date"])
PUBLIC_KEY = load_public_key_pem(VECTORS["public_key_pem"])
PRIVATE_KEY = load_private_key_pem(VECTORS["private_key_pem_pkcs1"])
CASES = VECTORS["cases"]
ALL = CASES["all_headers_test"]


def _message() -> HttpMessage:
    return HttpMessage.for_request(REQUEST["method"], URL, REQUEST["headers"])


async def _resolver(key_id: str, refresh: bool) -> PublicKey | None:
    return PUBLIC_KEY if key_id == VECTORS["keyId"] else None


def _verifies(signing_string: str, signature_b64: str) -> bool:
    return algorithms.verify(
        algorithms.RSA_V1_5_SHA256,
        PUBLIC_KEY,
        signing_string.encode(),
        base64.b64decode(signature_b64),
    )


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C")
def test_vector_key_is_rsa_1024() -> None:
    assert isinstance(PUBLIC_KEY, rsa.RSAPublicKey)
    assert PUBLIC_KEY.key_size == VECTORS["key_bits"] == 1024


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C.1")
@pytest.mark.parametrize("case", ["default_test", "basic_test"])
def test_signing_string_and_signature(case: str) -> None:
    vector = CASES[case]
    parsed = parse_signature_header(vector["signature_header"])
    assert parsed.key_id == VECTORS["keyId"]
    assert parsed.algorithm == vector["algorithm"]
    assert base64.b64encode(parsed.signature).decode() == vector["signature"]
    expected_headers = (vector["headers_param"] or "date").split()
    assert list(parsed.headers) == expected_headers
    assert build_signing_string(_message(), parsed.headers) == vector["signing_string"]
    assert _verifies(vector["signing_string"], vector["signature"]) is vector["verified"]


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C.2")
def test_basic_test_resigns_to_the_published_header() -> None:
    vector = CASES["basic_test"]
    header = cavage.sign(
        _message(),
        key_id=VECTORS["keyId"],
        private_key=PRIVATE_KEY,
        headers=vector["headers_param"].split(),
        algorithm=vector["algorithm"],
    )
    assert header == vector["signature_header"]


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C.1")
def test_default_test_resigns_to_the_published_signature() -> None:
    header = cavage.sign(
        _message(), key_id="Test", private_key=PRIVATE_KEY, headers=["date"], algorithm="rsa-sha256"
    )
    expected = CASES["default_test"]["signature"]
    assert base64.b64encode(parse_signature_header(header).signature).decode() == expected


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C.3")
def test_all_headers_signing_string_follows_the_spec_rules() -> None:
    signing_string = build_signing_string(
        _message(), ALL["headers_param"].split(), created=ALL["created"], expires=ALL["expires"]
    )
    assert signing_string == ALL["signing_string_per_spec_rules"]
    printed = ALL["signing_string_as_printed_in_spec"]
    assert _verifies(printed, ALL["signature"]) is ALL["verifies_against_printed_string"]
    assert _verifies(signing_string, ALL["signature"]) is ALL["verifies_against_spec_rules_string"]
    assert _verifies(signing_string, ALL["corrected_signature_for_spec_rules_string"])


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C.3")
def test_all_headers_resigns_to_the_corrected_signature() -> None:
    header = cavage.sign(
        _message(),
        key_id="Test",
        private_key=PRIVATE_KEY,
        headers=ALL["headers_param"].split(),
        algorithm="rsa-sha256",
        created=ALL["created"],
        expires=ALL["expires"],
    )
    signature = base64.b64encode(parse_signature_header(header).signature).decode()
    assert signature == ALL["corrected_signature_for_spec_rules_string"]


def _all_headers_signature(signature_b64: str) -> str:
    return (
        f'keyId="Test",algorithm="rsa-sha256",created={ALL["created"]},'
        f'expires={ALL["expires"]},headers="{ALL["headers_param"]}",signature="{signature_b64}"'
    )


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1")
async def test_vectors_verify_through_verify_request() -> None:
    for case in ("default_test", "basic_test"):
        headers = {**REQUEST["headers"], "Signature": CASES[case]["signature_header"]}
        result = await verify_request(
            "POST",
            URL,
            headers,
            BODY,
            key_resolver=_resolver,
            now=NOW,
            required_components=(),
            require_body_digest=False,
        )
        assert result.key_id == "Test"
        assert result.scheme == "cavage"
        assert result.algorithm == "rsa-v1_5-sha256"


@pytest.mark.spec("draft-cavage-http-signatures-12 §2.1.4")
async def test_all_headers_verifies_with_created_and_expires() -> None:
    corrected = ALL["corrected_signature_for_spec_rules_string"]
    headers = {**REQUEST["headers"], "Signature": _all_headers_signature(corrected)}
    at_creation = NOW.fromtimestamp(ALL["created"] + 1, NOW.tzinfo)
    # The vector's Date (2014-01-05) and created (2014-06-07) disagree; only created is checked.
    result = await verify_request(
        "POST",
        URL,
        headers,
        BODY,
        key_resolver=_resolver,
        now=at_creation,
        required_components=("(request-target)", "(created)", "digest"),
        max_skew=300,
    )
    assert result.created == ALL["created"]
    assert result.expires == ALL["expires"]


@pytest.mark.spec("draft-cavage-http-signatures-12 Appendix C.3")
async def test_all_headers_published_signature_is_rejected() -> None:
    headers = {**REQUEST["headers"], "Signature": _all_headers_signature(ALL["signature"])}
    at_creation = NOW.fromtimestamp(ALL["created"] + 1, NOW.tzinfo)
    with pytest.raises(HttpSignatureError) as excinfo:
        await verify_request(
            "POST",
            URL,
            headers,
            BODY,
            key_resolver=_resolver,
            now=at_creation,
            required_components=(),
        )
    assert excinfo.value.reason is Reason.BAD_SIGNATURE
