"""What a verifier demands beyond a valid signature: coverage, freshness, body digest.

These checks run before any key is fetched, so a stale or under-covered
request costs the receiver no network round trip.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

from protocol.httpsig import digest
from protocol.httpsig.errors import HttpDigestError, HttpSignatureError, Reason
from protocol.httpsig.message import HttpMessage

Requirement = str | Collection[str]
"""A component that must be covered, or a collection of alternatives of which one must be."""

CAVAGE_REQUIRED: tuple[Requirement, ...] = (
    "(request-target)",
    "host",
    frozenset({"date", "(created)"}),
)
"""Cavage default: what Mastodon requires. The digest is demanded separately for bodies."""

RFC9421_REQUIRED: tuple[Requirement, ...] = (
    "@method",
    frozenset({"@target-uri", "@request-target"}),
    frozenset({"@authority", "@target-uri", "host"}),
)
"""RFC 9421 default: method, full target and authority. ``created`` is always required."""


def check_coverage(covered: Sequence[str], required: Sequence[Requirement]) -> None:
    """Raise ``missing-component`` unless every requirement is met by ``covered``."""
    present = set(covered)
    for requirement in required:
        if isinstance(requirement, str):
            if requirement in present:
                continue
            options = {requirement}
        else:
            if not present.isdisjoint(requirement):
                continue
            options = set(requirement)
        wanted = " or ".join(sorted(options))
        raise HttpSignatureError(Reason.MISSING_COMPONENT, f"signature does not cover {wanted}")


def check_date(message: HttpMessage, now: float, max_skew: int) -> None:
    """Raise unless the ``Date`` field is within ``max_skew`` seconds of ``now``."""
    value = message.fields.combined("date")
    if value is None:
        raise HttpSignatureError(Reason.MISSING_HEADER, "covered Date field is absent")
    try:
        sent = _parsed_date(value).timestamp()
    except (TypeError, ValueError, OverflowError) as exc:  # Overflow: a year or zone of many digits
        raise HttpSignatureError(Reason.MALFORMED_HEADER, f"Date {value!r} unreadable") from exc
    if abs(now - sent) > max_skew:
        raise HttpSignatureError(
            Reason.DATE_OUT_OF_WINDOW, f"Date is {int(now - sent)} s from now (max {max_skew})"
        )


@lru_cache(maxsize=256)
def _parsed_date(value: str) -> datetime:
    # Every request a server sends within one second carries the same Date text,
    # and parsing it costs more than the rest of the freshness check. Errors are
    # raised afresh each time (lru_cache keeps only results); the datetime is
    # immutable, and a naive one still meets the local zone at .timestamp().
    return parsedate_to_datetime(value)


def check_created_expires(
    created: int | None, expires: int | None, now: float, max_skew: int
) -> None:
    """Refuse a future ``created``, a past ``expires``, or (without expires) an old ``created``."""
    # Integers are compared with floats, never subtracted from them: a cavage
    # created of hundreds of digits cannot become a float.
    if created is not None:
        if created > now + max_skew:
            raise HttpSignatureError(Reason.CREATED_OUT_OF_WINDOW, "created is in the future")
        if expires is None and created < now - max_skew:
            raise HttpSignatureError(
                Reason.CREATED_OUT_OF_WINDOW, f"created {int(now - created)} s ago (max {max_skew})"
            )
    if expires is not None and now > expires:
        raise HttpSignatureError(Reason.EXPIRED, f"expired {int(now - expires)} s ago")


def check_body_digest(
    message: HttpMessage,
    body: bytes | None,
    covered: Sequence[str],
    *,
    field: str,
    required: bool,
) -> None:
    """Check the ``Digest``/``Content-Digest`` ``field`` against ``body``.

    With a non-empty body and ``required``, the field must be present and
    covered. Whenever the field is present and a body is given, it must match.
    """
    value = message.fields.combined(field)
    if body and required:
        if value is None:
            raise HttpDigestError(Reason.DIGEST_MISSING, f"a body needs a {field} field")
        if field not in covered:
            raise HttpSignatureError(Reason.MISSING_COMPONENT, f"signature does not cover {field}")
    if value is not None and body is not None:
        if field == "digest":
            digest.verify_digest_header(value, body)
        else:
            digest.verify_content_digest_header(value, body)
