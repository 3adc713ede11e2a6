"""Body digests: ``Digest`` (RFC 3230, what the fediverse sends) and ``Content-Digest`` (RFC 9530).

A digest header may list several algorithms. Verification ignores algorithms
it does not know or considers broken (MD5, SHA-1) but requires at least one
supported one, and every supported one present must match: an attacker must
not be able to add a wrong value next to a right one and have it ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

import http_sfv

from protocol.httpsig.errors import HttpDigestError, Reason

# RFC 3230 algorithm tokens are case-insensitive; we compare in lower case.
_LEGACY_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}
# RFC 9530 registry keys we accept (sha-256 and sha-512 are the "standard" ones).
_CONTENT_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}


# The constructors themselves: hashlib.new looks the name up again on every body.
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _hash(hashlib_name: str, body: bytes) -> bytes:
    return _HASHES[hashlib_name](body).digest()


def make_digest_header(body: bytes, algorithm: str = "SHA-256") -> str:
    """Return an RFC 3230 ``Digest`` value such as ``SHA-256=<base64>``."""
    hashlib_name = _LEGACY_ALGORITHMS.get(algorithm.lower())
    if hashlib_name is None:
        raise HttpDigestError(Reason.DIGEST_UNSUPPORTED, f"cannot make a {algorithm} digest")
    encoded = base64.b64encode(_hash(hashlib_name, body)).decode("ascii")
    return f"{algorithm.upper()}={encoded}"


def make_content_digest_header(body: bytes, algorithms: Iterable[str] = ("sha-256",)) -> str:
    """Return an RFC 9530 ``Content-Digest`` dictionary, e.g. ``sha-256=:<base64>:``."""
    dictionary = http_sfv.Dictionary()
    for algorithm in algorithms:
        hashlib_name = _CONTENT_ALGORITHMS.get(algorithm)
        if hashlib_name is None:
            raise HttpDigestError(Reason.DIGEST_UNSUPPORTED, f"cannot make a {algorithm} digest")
        dictionary[algorithm] = _hash(hashlib_name, body)
    return str(dictionary)


def parse_digest_header(value: str) -> dict[str, bytes]:
    """Parse an RFC 3230 ``Digest`` value into ``{lower-case algorithm: raw digest}``.

    Only the algorithms this module supports are decoded; others are skipped.
    """
    digests: dict[str, bytes] = {}
    for member in value.split(","):
        name, sep, encoded = member.strip().partition("=")
        if not sep or not name:
            raise HttpDigestError(Reason.MALFORMED_DIGEST, f"bad Digest member {member!r}")
        name = name.lower()
        if name not in _LEGACY_ALGORITHMS:
            continue
        try:
            digests[name] = base64.b64decode(encoded.strip(), validate=True)
        except ValueError as exc:  # binascii.Error, or a non-ASCII character
            raise HttpDigestError(Reason.MALFORMED_DIGEST, f"{name} is not base64") from exc
    return digests


def parse_content_digest_header(value: str) -> dict[str, bytes]:
    """Parse an RFC 9530 ``Content-Digest`` into ``{algorithm: raw digest}`` (supported ones)."""
    dictionary = http_sfv.Dictionary()
    try:
        dictionary.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise HttpDigestError(
            Reason.MALFORMED_DIGEST, "Content-Digest is not a structured dictionary"
        ) from exc
    digests: dict[str, bytes] = {}
    for name, member in dictionary.items():
        if name not in _CONTENT_ALGORITHMS:
            continue
        if not isinstance(member, http_sfv.Item) or not isinstance(member.value, bytes):
            raise HttpDigestError(Reason.MALFORMED_DIGEST, f"{name} is not a byte sequence")
        digests[name] = member.value
    return digests


def _check(digests: dict[str, bytes], table: dict[str, str], body: bytes, header: str) -> None:
    if not digests:
        raise HttpDigestError(
            Reason.DIGEST_UNSUPPORTED, f"{header} has no sha-256 or sha-512 digest"
        )
    for name, expected in digests.items():
        if not hmac.compare_digest(_hash(table[name], body), expected):
            raise HttpDigestError(Reason.DIGEST_MISMATCH, f"{header} {name} does not match body")


def verify_digest_header(value: str, body: bytes) -> None:
    """Raise :class:`HttpDigestError` unless the ``Digest`` value matches ``body``."""
    _check(parse_digest_header(value), _LEGACY_ALGORITHMS, body, "Digest")


def verify_content_digest_header(value: str, body: bytes) -> None:
    """Raise :class:`HttpDigestError` unless the ``Content-Digest`` value matches ``body``."""
    _check(parse_content_digest_header(value), _CONTENT_ALGORITHMS, body, "Content-Digest")
