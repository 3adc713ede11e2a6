"""Checking a vouch (SPEC §11.4) and reading it as a reputation input.

:func:`read_vouch` checks what a vouch says on its own: its schema, that
``knownBy`` is the issuer, that the issuer is not the subject and that the
credential lives on its issuer's origin. :func:`verify_vouch` adds the proof,
which must be the issuer's own (SPEC §13.3). Both return the
:class:`~protocol.trust.Vouch` that :mod:`protocol.reputation` consumes;
whether the vouch has since been revoked is the caller's to know.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from protocol.errors import SchemaError
from protocol.key_ownership import verify_authored_object
from protocol.normalize import id_of
from protocol.trust import Vouch
from protocol.validation import validate

__all__ = ["read_vouch", "verify_vouch"]

#: RFC 3339 allows any number of fractional digits; Python reads at most six.
_EXTRA_DIGITS = re.compile(r"(\.\d{6})\d+")


def _origin(iri: str) -> tuple[str, str]:
    parts = urlsplit(iri)
    return parts.scheme.lower(), parts.netloc.lower()


def read_vouch(document: Mapping[str, Any]) -> Vouch:
    """The vouch ``document`` states, without checking its proof.

    Raises :class:`~protocol.errors.SchemaError` when it is not a well-formed
    vouch: wrong shape, ``knownBy`` other than the issuer, a vouch for oneself,
    or an ``id`` on another origin than the issuer's.
    """
    validate(document, "vouch")
    issuer = id_of(document["issuer"]) or ""
    subject = document["credentialSubject"]["id"]
    if document["credentialSubject"]["knownBy"] != issuer:
        raise SchemaError("knownBy must be the vouch's issuer",
                          errors=[("/credentialSubject/knownBy", "not the issuer")])
    if subject == issuer:
        raise SchemaError("a member cannot vouch for themselves",
                          errors=[("/credentialSubject/id", "the issuer")])
    if _origin(document["id"]) != _origin(issuer):
        raise SchemaError("a vouch lives on its issuer's origin",
                          errors=[("/id", "not on the issuer's origin")])
    try:
        issued_at = datetime.fromisoformat(_EXTRA_DIGITS.sub(r"\1", document["validFrom"]))
    except ValueError as exc:
        raise SchemaError("validFrom is not a real date-time",
                          errors=[("/validFrom", "not a date")]) from exc
    return Vouch(vouch_id=document["id"], issuer=issuer, subject=subject, issued_at=issued_at)


def verify_vouch(document: Mapping[str, Any], issuer_actor: Mapping[str, Any]) -> Vouch:
    """:func:`read_vouch`, and the proof made by the issuer's own ``assertionMethod`` key.

    ``issuer_actor`` is the issuer's actor document (fetched by the caller).
    Raises :class:`~protocol.errors.SchemaError` or :class:`~protocol.errors.ProofError`.
    """
    vouch = read_vouch(document)
    if issuer_actor.get("id") != vouch.issuer:
        raise SchemaError("the actor document given is not the issuer's",
                          errors=[("/issuer", "another actor")])
    verify_authored_object(document, issuer_actor)
    return vouch
