"""RFC 9421 Appendix B, reproduced exactly.

Every signature base is rebuilt byte for byte, every signature verifies, and
the deterministic ones (HMAC, Ed25519) re-sign to the published bytes. The
randomised ones (RSA-PSS, ECDSA) are re-signed and verified.

Caveat from tests/vectors/README.md: the RFC's test response carries a
Content-Digest that does not match its body; B.2.4's signature base uses the
correct value, so the response is rebuilt with ``correct_content_digest``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from protocol.httpsig import (
    HttpMessage,
    HttpSignatureError,
    PublicKey,
    Reason,
    SignatureInput,
    VerificationKey,
    algorithms,
    build_signature_base,
    load_private_key_pem,
    load_public_key_pem,
    parse_signatures,
    sign_message,
    verify_request,
)
from protocol.httpsig.message import Fields

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "rfc9421_appendix_b.json").read_text()
)
KEYS = VECTORS["keys"]
CASES = VECTORS["cases"]
CREATED = 1618884473
AT_CREATION = datetime.fromtimestamp(CREATED, UTC)
REQUEST_CASES = ["sig-b21", "sig-b22", "sig-b23", "sig-b25", "sig-b26"]
ALL_CASES = [*REQUEST_CASES, "sig-b24", "ttrp", "transform"]


def _public(key_id: str) -> PublicKey:
    if key_id == "test-shared-secret":
        return base64.b64decode(KEYS[key_id]["base64"])
    return load_public_key_pem(KEYS[key_id]["public_pem"])


def _private(key_id: str) -> Any:
    if key_id == "test-shared-secret":
        return base64.b64decode(KEYS[key_id]["base64"])
    return load_private_key_pem(KEYS[key_id]["private_pem"])


def _parse_raw(raw: str) -> tuple[str, list[tuple[str, str]], bytes]:
    head, _, body = raw.partition("\n\n")
    start_line, *lines = head.split("\n")
    headers = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return start_line, headers, body.encode()


def _request_from_raw(raw: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    start_line, headers, body = _parse_raw(raw)
    method, target, _ = start_line.split(" ")
    host = dict((name.lower(), value) for name, value in headers)["host"]
    return method, f"https://{host}{target}", headers, body


def _message_for(case: str) -> HttpMessage:
    vector = CASES[case]
    if case == "ttrp":
        method, url, headers, _ = _request_from_raw(vector["raw_message"])
        return HttpMessage.for_request(method, url, headers)
    if case == "transform":
        method, url, headers, _ = _request_from_raw(vector["messages"][0]["raw"])
        return HttpMessage.for_request(method, url, headers)
    message = VECTORS["messages"][vector["message"]]
    headers = [tuple(pair) for pair in message["headers"]]
    if vector["message"] == "test-response":
        fixed = message["correct_content_digest"]
        headers = [(n, fixed if n.lower() == "content-digest" else v) for n, v in headers]
        return HttpMessage.for_response(200, headers)
    method, target, _ = message["start_line"].split(" ")
    return HttpMessage.for_request(method, f"https://example.com{target}", headers)


def _signature(case: str) -> SignatureInput:
    vector = CASES[case]
    fields = Fields(
        [("Signature-Input", vector["Signature-Input"]), ("Signature", vector["Signature"])]
    )
    return parse_signatures(fields)[case]


@pytest.mark.spec("RFC 9421 §2.5")
@pytest.mark.parametrize("case", ALL_CASES)
def test_signature_base_is_reproduced(case: str) -> None:
    signature = _signature(case)
    base = build_signature_base(_message_for(case), signature.components, signature.params)
    assert base == CASES[case]["signature_base"]


@pytest.mark.spec("RFC 9421 §3.2")
@pytest.mark.parametrize("case", ALL_CASES)
def test_published_signature_verifies(case: str) -> None:
    vector = CASES[case]
    signature = _signature(case)
    assert signature.params["keyid"] == vector["keyid"]
    ok = algorithms.verify(
        vector["alg"],
        _public(vector["keyid"]),
        vector["signature_base"].encode(),
        signature.signature,
    )
    assert ok is vector["verified_against_printed_signature_base"] is True


@pytest.mark.spec("RFC 9421 §3.1")
@pytest.mark.parametrize("case", ["sig-b25", "sig-b26", "transform"])
def test_deterministic_signatures_resign_byte_for_byte(case: str) -> None:
    vector = CASES[case]
    signature = _signature(case)
    signature_input, signature_field = sign_message(
        _message_for(case),
        label=case,
        components=signature.components,
        params=signature.params,
        private_key=_private(vector["keyid"]),
        algorithm=vector["alg"],
    )
    assert signature_input == vector["Signature-Input"]
    assert signature_field == vector["Signature"]


@pytest.mark.spec("RFC 9421 §3.3")
@pytest.mark.parametrize("case", ["sig-b21", "sig-b22", "sig-b23", "sig-b24", "ttrp"])
def test_randomised_signatures_resign_and_verify(case: str) -> None:
    vector = CASES[case]
    signature = _signature(case)
    signature_input, signature_field = sign_message(
        _message_for(case),
        label=case,
        components=signature.components,
        params=signature.params,
        private_key=_private(vector["keyid"]),
        algorithm=vector["alg"],
    )
    assert signature_input == vector["Signature-Input"]
    fresh = parse_signatures(
        Fields({"Signature-Input": signature_input, "Signature": signature_field})
    )[case]
    base = vector["signature_base"].encode()
    assert algorithms.verify(vector["alg"], _public(vector["keyid"]), base, fresh.signature)
    assert fresh.signature != signature.signature  # RSA-PSS and ECDSA are randomised


def _pinned_resolver(case: str) -> Any:
    vector = CASES[case]

    async def resolve(key_id: str, refresh: bool) -> VerificationKey | None:
        # The vectors carry no `alg`: the algorithm is key metadata (RFC 9421 §3.2).
        if key_id != vector["keyid"]:
            return None
        return VerificationKey(_public(key_id), vector["alg"])

    return resolve


@pytest.mark.spec("RFC 9421 §3.2")
@pytest.mark.parametrize("case", REQUEST_CASES)
async def test_request_vectors_verify_through_verify_request(case: str) -> None:
    vector = CASES[case]
    message = VECTORS["messages"]["test-request"]
    headers = [
        *[tuple(pair) for pair in message["headers"]],
        ("Signature-Input", vector["Signature-Input"]),
        ("Signature", vector["Signature"]),
    ]
    target = message["start_line"].split(" ")[1]
    result = await verify_request(
        "POST",
        f"https://example.com{target}",
        headers,
        message["body"].encode(),
        key_resolver=_pinned_resolver(case),
        now=AT_CREATION,
        required_components=(),
        require_body_digest=False,
    )
    assert (result.scheme, result.label, result.algorithm) == ("rfc9421", case, vector["alg"])
    assert result.key_id == vector["keyid"]
    assert result.created == CREATED


@pytest.mark.spec("RFC 9421 Appendix B.3")
async def test_proxied_request_verifies() -> None:
    method, url, headers, body = _request_from_raw(CASES["ttrp"]["raw_message"])
    result = await verify_request(
        method,
        url,
        headers,
        body,
        key_resolver=_pinned_resolver("ttrp"),
        now=AT_CREATION,
        required_components=("@method", "@authority", "@path", "@query"),
        require_body_digest=False,
    )
    assert result.covered == ("@path", "@query", "@method", "@authority", "client-cert")


@pytest.mark.spec("RFC 9421 Appendix B.4")
@pytest.mark.parametrize("index", range(len(CASES["transform"]["messages"])))
async def test_transformed_messages(index: int) -> None:
    transformed = CASES["transform"]["messages"][index]
    method, url, headers, body = _request_from_raw(transformed["raw"])
    verifying = verify_request(
        method,
        url,
        headers,
        body or None,
        key_resolver=_pinned_resolver("transform"),
        now=AT_CREATION,
        required_components=(),
    )
    if transformed["signature_still_valid"]:
        result = await verifying
        assert result.algorithm == "ed25519"
    else:
        with pytest.raises(HttpSignatureError) as excinfo:
            await verifying
        assert excinfo.value.reason is Reason.BAD_SIGNATURE


@pytest.mark.spec("RFC 9421 Appendix B.2.4")
def test_response_base_needs_the_corrected_digest() -> None:
    response = VECTORS["messages"]["test-response"]
    published = HttpMessage.for_response(200, [tuple(pair) for pair in response["headers"]])
    signature = _signature("sig-b24")
    base = build_signature_base(published, signature.components, signature.params)
    assert base != CASES["sig-b24"]["signature_base"]
    assert (
        base.replace(
            dict(response["headers"])["Content-Digest"], response["correct_content_digest"]
        )
        == CASES["sig-b24"]["signature_base"]
    )
