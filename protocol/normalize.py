"""Bring inbound JSON-LD into the one shape the node's code reads.

Other servers write the same ActivityStreams data many ways: extra inline
contexts (Mastodon's ``toot:``, Misskey's ``misskey:``), ``as:`` prefixed keys,
single values or arrays, embedded objects or bare IRIs. :func:`normalize`
settles the JSON-LD differences (which key means what); the small helpers
below settle the JSON ones (one value or many, object or reference).

Normalisation never changes a document in place: it returns a new dict.
A signed document must be verified as received, so keeping the original bytes
or dict for signature and proof checks is the caller's business.

The fast-path rule (:func:`is_kula_shape`), chosen to be conservative:

* every string in every ``@context`` (top-level and nested) is a bundled
  ActivityStreams, security v1, Data Integrity v2, Multikey v1 or Kula IRI
  (an alias counts); no ``@context`` at all means ActivityStreams
  (AS 2.0 Core §2.1);
* every inline context object only adds plain terms and prefixes: no
  ``@``-keywords (``@vocab``, ``@language``, ``@base``...), no keyword aliases,
  definitions limited to ``@id``/``@type``/``@container`` (``@list``, ``@set``
  or ``@language``); a term those contexts define may only be repeated with the
  same meaning, and a new term may not be another name for an ActivityStreams,
  Data Integrity, Multikey or Kula IRI;
* every key in the body is a plain term: none contains ``:`` or starts with ``@``.

Anything else is compacted by pyld; ``type`` values are left as written on the
fast path, so :func:`has_type` accepts ``as:Create`` as ``Create``. Compaction
is faithful JSON-LD: a bare string under a key with no ``"@type": "@id"``
coercion (``"as:actor": "https://..."``) is a literal, not a reference, and
stays under its prefixed key; the node then simply finds no ``actor``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, NamedTuple

from protocol import contexts, jsonld
from protocol.contexts import TermDefinition, expand_prefixed
from protocol.errors import JsonLdError
from protocol.namespaces import (
    ACTIVITYSTREAMS_CONTEXT,
    AS_PUBLIC,
    DATA_INTEGRITY_CONTEXT,
    KULA_AP_CONTEXT,
    KULA_CONTEXT,
    MULTIKEY_CONTEXT,
    SECURITY_V1_CONTEXT,
)

_AS_NAMESPACE = "https://www.w3.org/ns/activitystreams#"
_AS_PREFIXES = (_AS_NAMESPACE, "http://www.w3.org/ns/activitystreams#", "as:")

#: Every spelling of the public collection seen in the wild (AS 2.0 Vocabulary §5.6).
PUBLIC_ADDRESSES: frozenset[str] = frozenset(
    {AS_PUBLIC, "http://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
)

#: Contexts whose terms make up "our shape" (see the module docstring).
_SHAPE_CONTEXTS = (
    ACTIVITYSTREAMS_CONTEXT,
    SECURITY_V1_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    MULTIKEY_CONTEXT,
    KULA_CONTEXT,
)
#: Contexts whose IRIs an inline term may not rename (security v1 is left out:
#: Misskey's widely used ``"Key": "sec:Key"`` is harmless to Kula).
_NO_ALIAS_CONTEXTS = frozenset(_SHAPE_CONTEXTS) - {SECURITY_V1_CONTEXT}
_INLINE_DEFINITION_KEYS = frozenset({"@id", "@type", "@container"})
_INLINE_CONTAINERS = frozenset({"@list", "@set", "@language"})
_LANGUAGE_MAPPED_TERMS = ("content", "name", "summary")


def normalize(
    document: Mapping[str, Any], context: jsonld.ContextValue = KULA_AP_CONTEXT
) -> dict[str, Any]:
    """Return ``document`` in Kula's shape, as a new dict; the input is never modified.

    Documents that already pass :func:`is_kula_shape` are deep-copied with no
    pyld call. Others are compacted against ``context`` (Kula's AP context by
    default; pass ``KULA_ACTOR_CONTEXT`` for actors so that ``publicKey`` keeps
    its short name). Verify signatures on the original, never on the result.

    Raises :class:`~protocol.errors.JsonLdError` if the document is not an
    object or names a context that is not bundled.
    """
    if not isinstance(document, Mapping):
        kind = type(document).__name__
        raise JsonLdError(f"an ActivityPub document must be a JSON object, not {kind}")
    if is_kula_shape(document):
        return copy.deepcopy(dict(document))
    source = dict(document)
    source["@context"] = _with_activitystreams(document.get("@context"))
    return jsonld.compact(source, context)


def is_kula_shape(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` can be read as it is, without JSON-LD processing.

    The rule is in the module docstring. The check walks the document once
    (without recursion, so depth cannot exhaust the stack) and never calls pyld.
    """
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "@context":
                    if not _context_is_kula_shape(value):
                        return False
                elif not isinstance(key, str) or key.startswith("@") or ":" in key:
                    return False
                else:
                    pending.append(value)
        elif isinstance(node, list):
            pending.extend(node)
    return True


def _with_activitystreams(context: Any) -> Any:
    """Add the AS context when a document lacks it: AS 2.0 Core §2.1 says it still applies."""
    entries = as_list(context)
    named = {contexts.canonical_context_iri(item) for item in entries if isinstance(item, str)}
    if ACTIVITYSTREAMS_CONTEXT in named:
        return context
    return [ACTIVITYSTREAMS_CONTEXT, *entries]


def _context_is_kula_shape(context: Any) -> bool:
    shape = _shape_terms()
    prefixes = dict(shape.prefixes)
    for entry in as_list(context) if context is not None else [None]:
        if isinstance(entry, str):
            if contexts.canonical_context_iri(entry) not in _SHAPE_CONTEXTS:
                return False
        elif isinstance(entry, Mapping):
            if not _inline_context_is_safe(entry, prefixes, shape):
                return False
        else:  # null resets every definition; anything else is malformed
            return False
    return True


def _inline_context_is_safe(
    inline: Mapping[str, Any], prefixes: dict[str, str], shape: _ShapeTerms
) -> bool:
    # Prefixes declared here are usable by the other terms of this object and later ones.
    for term, value in inline.items():
        if isinstance(term, str) and isinstance(value, str) and value.endswith(("#", "/")):
            prefixes[term] = expand_prefixed(value, prefixes)
    for term, value in inline.items():
        if not isinstance(term, str) or term.startswith("@") or ":" in term:
            return False
        definition = _inline_definition(value, prefixes)
        if definition is None:
            return False
        if term in shape.definitions:
            if shape.definitions[term] != definition:
                return False
        elif definition.iri in shape.protected_iris:
            return False
    return True


def _inline_definition(value: Any, prefixes: Mapping[str, str]) -> TermDefinition | None:
    """Parse an inline term definition, or ``None`` if it is outside the safe subset."""
    if isinstance(value, str):
        value = {"@id": value}
    if not isinstance(value, Mapping) or not set(value) <= _INLINE_DEFINITION_KEYS:
        return None
    iri, type_, container = value.get("@id"), value.get("@type"), value.get("@container")
    if not isinstance(iri, str) or iri.startswith("@"):
        return None
    if type_ is not None and not (isinstance(type_, str) and (type_ == "@id" or type_[:1] != "@")):
        return None
    if container is not None and container not in _INLINE_CONTAINERS:
        return None
    expanded_type = type_ if type_ in (None, "@id") else expand_prefixed(type_, prefixes)
    return TermDefinition(expand_prefixed(iri, prefixes), expanded_type, container, scoped=False)


class _ShapeTerms(NamedTuple):
    definitions: Mapping[str, TermDefinition]
    prefixes: Mapping[str, str]
    #: IRIs an inline term may not be a second name for.
    protected_iris: frozenset[str]


def _shape_terms() -> _ShapeTerms:
    return _shape_terms_for(with_kula=contexts.is_available(KULA_CONTEXT))


@cache
def _shape_terms_for(*, with_kula: bool) -> _ShapeTerms:
    # Kula's own context may not be in this build yet; it then contributes no terms.
    available = [iri for iri in _SHAPE_CONTEXTS if with_kula or iri != KULA_CONTEXT]
    definitions: dict[str, TermDefinition] = {}
    for iri in available:
        definitions.update(contexts.term_definitions(iri))
    return _ShapeTerms(
        definitions=definitions,
        prefixes={t: d.iri for t, d in definitions.items() if d.iri.endswith(("#", "/"))},
        protected_iris=frozenset(
            d.iri
            for iri in available
            if iri in _NO_ALIAS_CONTEXTS
            for d in contexts.term_definitions(iri).values()
        ),
    )


def as_list(value: Any) -> list[Any]:
    """``None`` -> ``[]``; a list -> a copy of it; any other value -> ``[value]``."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def first(value: Any) -> Any:
    """The first of one-or-many ``value``, or ``None`` when there is none."""
    values = as_list(value)
    return values[0] if values else None


def id_of(value: Any) -> str | None:
    """A bare IRI string, or the string ``id`` of an embedded object; else ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        identifier = value.get("id")
        if isinstance(identifier, str):
            return identifier
    return None


def ids_of(value: Any) -> list[str]:
    """The IRIs of one-or-many references or embedded objects, skipping those without one."""
    return [identifier for item in as_list(value) if (identifier := id_of(item)) is not None]


def has_type(document: Any, type_name: str) -> bool:
    """Whether ``document``'s ``type`` (string or list) includes ``type_name``.

    ActivityStreams spellings are equal: ``Create``, ``as:Create`` and the full
    ``https://www.w3.org/ns/activitystreams#Create`` all match each other.
    """
    if not isinstance(document, Mapping):
        return False
    wanted = _without_as_prefix(type_name)
    return any(
        isinstance(candidate, str) and _without_as_prefix(candidate) == wanted
        for candidate in as_list(document.get("type"))
    )


def _without_as_prefix(name: str) -> str:
    for prefix in _AS_PREFIXES:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def is_public(addressing: Any) -> bool:
    """Whether addressing (``to``, ``cc``...: one or many) includes the public collection."""
    return any(identifier in PUBLIC_ADDRESSES for identifier in ids_of(addressing))


def strip_public_aliases(addressing: Any) -> list[str]:
    """The addressed IRIs with every spelling of the public collection removed."""
    return [identifier for identifier in ids_of(addressing) if identifier not in PUBLIC_ADDRESSES]


def plain_text(document: Mapping[str, Any], term: str, languages: Sequence[str] = ()) -> str | None:
    """``document[term]`` if it is a string, else a value from ``document[term + "Map"]``.

    From the language map, the first of ``languages`` present wins, then
    ``und`` (undetermined), then the map's first entry. ``None`` when neither exists.
    """
    plain = document.get(term)
    if isinstance(plain, str):
        return plain
    language_map = document.get(f"{term}Map")
    if not isinstance(language_map, Mapping):
        return None
    for language in (*languages, "und"):
        if isinstance(language_map.get(language), str):
            return language_map[language]
    return next((text for text in language_map.values() if isinstance(text, str)), None)


def with_plain_language(
    document: Mapping[str, Any], languages: Sequence[str] = ()
) -> dict[str, Any]:
    """A shallow copy of ``document`` with ``content``/``name``/``summary`` filled
    from ``contentMap``/``nameMap``/``summaryMap`` where the plain term is absent."""
    result = dict(document)
    for term in _LANGUAGE_MAPPED_TERMS:
        if term not in result and (text := plain_text(document, term, languages)) is not None:
            result[term] = text
    return result
