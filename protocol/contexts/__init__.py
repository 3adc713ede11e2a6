"""JSON-LD context documents shipped inside the package, loaded by IRI.

Receivers never fetch a context from the network: every context Kula
understands is a file in this package, named in :data:`CONTEXT_FILES`, and read
with :mod:`importlib.resources` so it works from a wheel or a zip as well as
from a checkout. ``SOURCES.md`` beside this file says where each copy came from.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from protocol.errors import JsonLdError
from protocol.namespaces import (
    ACTIVITYSTREAMS_CONTEXT,
    CREDENTIALS_V2_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    KULA_CONTEXT,
    MULTIKEY_CONTEXT,
    SECURITY_V1_CONTEXT,
)

#: The context the VC 2.0 and Data Integrity test vectors use for example terms.
CREDENTIALS_EXAMPLES_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/examples/v2"

#: The one table from context IRI to bundled file. ``kula-v1.jsonld`` is Kula's
#: own vocabulary; it is served as soon as the file is present.
CONTEXT_FILES: Final[Mapping[str, str]] = MappingProxyType(
    {
        ACTIVITYSTREAMS_CONTEXT: "activitystreams.jsonld",
        SECURITY_V1_CONTEXT: "security-v1.jsonld",
        DATA_INTEGRITY_CONTEXT: "data-integrity-v2.jsonld",
        MULTIKEY_CONTEXT: "multikey-v1.jsonld",
        CREDENTIALS_V2_CONTEXT: "credentials-v2.jsonld",
        CREDENTIALS_EXAMPLES_V2_CONTEXT: "credentials-examples-v2.jsonld",
        KULA_CONTEXT: "kula-v1.jsonld",
    }
)

#: Other spellings of the same documents that servers in the wild put in
#: ``@context``. Each resolves (or redirects) to the canonical document.
CONTEXT_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # AS 2.0 Core §2.1 explicitly allows the http URL.
        "http://www.w3.org/ns/activitystreams": ACTIVITYSTREAMS_CONTEXT,
        "https://www.w3.org/ns/activitystreams.jsonld": ACTIVITYSTREAMS_CONTEXT,
        "http://www.w3.org/ns/activitystreams.jsonld": ACTIVITYSTREAMS_CONTEXT,
        "http://w3id.org/security/v1": SECURITY_V1_CONTEXT,
        "http://w3id.org/security/data-integrity/v2": DATA_INTEGRITY_CONTEXT,
        "http://w3id.org/security/multikey/v1": MULTIKEY_CONTEXT,
    }
)


def canonical_context_iri(url: str) -> str | None:
    """Return the canonical IRI of a bundled context for ``url``, or ``None``.

    ``url`` may be a canonical IRI or one of :data:`CONTEXT_ALIASES`. No
    normalisation beyond that table is attempted: an unknown spelling is unknown.
    """
    if url in CONTEXT_FILES:
        return url
    return CONTEXT_ALIASES.get(url)


def is_available(iri: str) -> bool:
    """Whether the context for ``iri`` (canonical or alias) is bundled and loads."""
    canonical = canonical_context_iri(iri)
    if canonical is None:
        return False
    try:
        _parsed(CONTEXT_FILES[canonical])
    except JsonLdError:
        return False
    return True


def load_context(iri: str) -> dict[str, Any]:
    """Return the parsed context document for ``iri`` (canonical or alias).

    The result is a fresh copy the caller may modify. Raises
    :class:`~protocol.errors.JsonLdError` when the IRI is not bundled, or its
    file is missing or not a JSON object with an ``@context`` member.
    """
    canonical = canonical_context_iri(iri)
    if canonical is None:
        raise JsonLdError(f"no bundled JSON-LD context for {iri!r}; remote contexts are refused")
    return copy.deepcopy(_parsed(CONTEXT_FILES[canonical]))


class TermDefinition(NamedTuple):
    """The parts of a JSON-LD term definition that decide what a key means."""

    iri: str
    #: ``@type`` coercion, expanded, or ``"@id"``; ``None`` when absent.
    type: str | None
    container: str | None
    #: Whether the definition carries a type- or property-scoped ``@context``.
    scoped: bool


def expand_prefixed(value: str, prefixes: Mapping[str, str]) -> str:
    """Expand a compact IRI ``prefix:suffix`` with ``prefixes``; leave anything else as is."""
    prefix, colon, suffix = value.partition(":")
    if colon and not suffix.startswith("//") and prefix in prefixes:
        return prefixes[prefix] + suffix
    return value


@functools.cache
def term_definitions(iri: str) -> Mapping[str, TermDefinition]:
    """The top-level term definitions of a bundled context, IRIs fully expanded.

    Only the context's own prefixes are used for expansion, which suffices for
    every bundled document. Raises :class:`~protocol.errors.JsonLdError` like
    :func:`load_context`.
    """
    body = load_context(iri)["@context"]
    prefixes = {t: v for t, v in body.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    definitions = {}
    for term, value in body.items():
        if term.startswith("@"):
            continue
        spec = {"@id": value} if isinstance(value, str) else value
        type_ = spec.get("@type")
        definitions[term] = TermDefinition(
            iri=expand_prefixed(spec.get("@id", term), prefixes),
            type=type_ if type_ in (None, "@id") else expand_prefixed(type_, prefixes),
            container=spec.get("@container"),
            scoped="@context" in spec,
        )
    return MappingProxyType(definitions)


def _package_text(filename: str) -> str:
    return resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")


# Parsed once per process: the files are immutable package data. A failure is
# not cached (lru_cache never caches exceptions), so a file added later is seen.
@functools.cache
def _parsed(filename: str) -> dict[str, Any]:
    try:
        text = _package_text(filename)
    except FileNotFoundError:
        raise JsonLdError(f"bundled context file {filename!r} is missing") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise JsonLdError(f"bundled context file {filename!r} is not JSON: {error}") from None
    if not isinstance(document, dict) or "@context" not in document:
        raise JsonLdError(f"bundled context file {filename!r} has no top-level @context")
    return document
