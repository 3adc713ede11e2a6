"""Helpers shared by the builders: timestamps, audiences, and dropping unset fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from protocol.namespaces import KULA_AP_CONTEXT

JsonDict = dict[str, Any]
Timestamp = datetime | str | None


def timestamp(value: Timestamp = None) -> str:
    """Render ``value`` (default: now) as an RFC 3339 UTC timestamp ending in ``Z``.

    Strings pass through unchanged: the caller already chose the form.
    A naive datetime is refused, since its zone would be a guess.
    """
    if isinstance(value, str):
        return value
    moment = datetime.now(UTC) if value is None else value
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def ids(values: str | Iterable[str]) -> list[str]:
    """Return ``values`` as a list of ids, accepting a single id too."""
    return [values] if isinstance(values, str) else list(values)


def drop_unset(fields: Mapping[str, Any]) -> JsonDict:
    """Return ``fields`` without the keys whose value is None or an empty list."""
    return {key: value for key, value in fields.items() if value is not None and value != []}


def with_context(document: JsonDict, context: list[str] | None = None) -> JsonDict:
    """Put ``@context`` (default: Kula's ActivityPub context) first in ``document``."""
    return {"@context": list(context or KULA_AP_CONTEXT), **document}


def embedded(document: JsonDict | str, outer: list[str] | None = None) -> JsonDict | str:
    """Return ``document`` ready for nesting in a document whose context is ``outer``.

    Its own ``@context`` is dropped when ``outer`` already holds every entry
    of it, and kept otherwise (a credential inside a ``Create`` keeps the VC
    context, which must not leak onto the activity); ids pass through. A
    document with an integrity proof always keeps it: a signed object travels
    exactly as signed, so any receiver can verify it on its own (FEP-8b32).
    """
    if isinstance(document, str) or "@context" not in document or "proof" in document:
        return document
    inner = document["@context"]
    inner_list = inner if isinstance(inner, list) else [inner]
    if all(entry in (outer or KULA_AP_CONTEXT) for entry in inner_list):
        return {key: value for key, value in document.items() if key != "@context"}
    return document


def context_for(document: JsonDict | str | list[str]) -> list[str]:
    """The ``@context`` for an activity carrying ``document``.

    Kula's ActivityPub context, or the object's own when that extends it (an
    actor document adds the key contexts, which an ``Update`` must keep).
    """
    if isinstance(document, dict) and isinstance(document.get("@context"), list):
        inner = document["@context"]
        if all(entry in inner for entry in KULA_AP_CONTEXT):
            return list(inner)
    return list(KULA_AP_CONTEXT)
