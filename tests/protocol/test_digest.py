"""Body digests: RFC 3230 ``Digest`` and RFC 9530 ``Content-Digest``."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from protocol.errors import DigestError
from protocol.httpsig import (
    HttpDigestError,
    Reason,
    make_content_digest_header,
    make_digest_header,
    parse_content_digest_header,
    parse_digest_header,
    verify_content_digest_header,
    verify_digest_header,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
RFC9421 = json.loads((VECTORS / "rfc9421_appendix_b.json").read_text())
CAVAGE = json.loads((VECTORS / "cavage12_appendix_c.json").read_text())
HELLO = b'{"hello": "world"}'


def _reason(excinfo: pytest.ExceptionInfo[HttpDigestError]) -> Reason:
    return excinfo.value.reason


@pytest.mark.spec("RFC 3230 §4.3.2")
def test_digest_header_matches_cavage_appendix_c() -> None:
    assert (
        make_digest_header(CAVAGE["request"]["body"].encode())
        == (CAVAGE["request"]["headers"]["Digest"])
    )


@pytest.mark.spec("RFC 9530 §2")
def test_content_digest_matches_rfc9421_test_request() -> None:
    body = RFC9421["messages"]["test-request"]["body"].encode()
    published = dict(RFC9421["messages"]["test-request"]["headers"])["Content-Digest"]
    assert make_content_digest_header(body, ["sha-512"]) == published
    verify_content_digest_header(published, body)


@pytest.mark.spec("RFC 9530 §2")
def test_content_digest_sha256_is_base64_of_the_hash() -> None:
    expected = base64.b64encode(hashlib.sha256(HELLO).digest()).decode()
    assert make_content_digest_header(HELLO) == f"sha-256=:{expected}:"
    both = make_content_digest_header(HELLO, ["sha-256", "sha-512"])
    assert set(parse_content_digest_header(both)) == {"sha-256", "sha-512"}


@pytest.mark.spec("RFC 9421 Appendix B.2.4")
def test_rfc9421_test_response_digest_caveat() -> None:
    response = RFC9421["messages"]["test-response"]
    body = response["body"].encode()
    printed = dict(response["headers"])["Content-Digest"]
    with pytest.raises(HttpDigestError) as excinfo:
        verify_content_digest_header(printed, body)
    assert _reason(excinfo) is Reason.DIGEST_MISMATCH
    verify_content_digest_header(response["correct_content_digest"], body)


@pytest.mark.spec("RFC 3230 §4.3.2")
def test_digest_header_is_case_insensitive_and_multi_valued() -> None:
    sha256 = make_digest_header(HELLO).split("=", 1)[1]
    sha512 = make_digest_header(HELLO, "SHA-512").split("=", 1)[1]
    verify_digest_header(f"sha-256={sha256}, SHA-512={sha512}, MD5=ignored", HELLO)
    assert set(parse_digest_header(f"SHA-256={sha256},md5=xx")) == {"sha-256"}


@pytest.mark.spec("RFC 3230 §4.3.2")
def test_one_wrong_digest_among_right_ones_fails() -> None:
    sha256 = make_digest_header(HELLO).split("=", 1)[1]
    wrong = make_digest_header(b"other", "SHA-512").split("=", 1)[1]
    with pytest.raises(DigestError) as excinfo:
        verify_digest_header(f"SHA-256={sha256},SHA-512={wrong}", HELLO)
    assert excinfo.value.reason is Reason.DIGEST_MISMATCH  # type: ignore[attr-defined]


@pytest.mark.spec("RFC 3230 §4.3.2")
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("SHA-256=not*base64", Reason.MALFORMED_DIGEST),
        ("SHA-256", Reason.MALFORMED_DIGEST),
        ("MD5=HUXZLQLMuI/KZ5KDcJPcOA==", Reason.DIGEST_UNSUPPORTED),
    ],
)
def test_bad_digest_headers(header: str, reason: Reason) -> None:
    with pytest.raises(HttpDigestError) as excinfo:
        verify_digest_header(header, HELLO)
    assert _reason(excinfo) is reason


@pytest.mark.spec("RFC 9530 §2")
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("sha-256=abc", Reason.MALFORMED_DIGEST),
        ("not a dictionary;;", Reason.MALFORMED_DIGEST),
        ("md5=:HUXZLQLMuI/KZ5KDcJPcOA==:", Reason.DIGEST_UNSUPPORTED),
        (make_content_digest_header(b"tampered"), Reason.DIGEST_MISMATCH),
    ],
)
def test_bad_content_digest_headers(header: str, reason: Reason) -> None:
    with pytest.raises(HttpDigestError) as excinfo:
        verify_content_digest_header(header, HELLO)
    assert _reason(excinfo) is reason


@pytest.mark.spec("RFC 9530 §5")
def test_unknown_digest_algorithm_cannot_be_made() -> None:
    with pytest.raises(HttpDigestError):
        make_content_digest_header(HELLO, ["md5"])
    with pytest.raises(HttpDigestError):
        make_digest_header(HELLO, "MD5")
