"""Validate documents against Kula's JSON Schemas.

:func:`validate` is the run-time path: ``jsonschema_rs`` validators, compiled
once per schema and cached, with every ``$ref`` between our schemas resolved
from the shipped files (a retriever that refuses everything else keeps
validation offline). :func:`reference_validate` runs the pure-Python
``jsonschema`` implementation on the same schemas; tests check that the two
agree. Formats are annotations only in both, as draft 2020-12 specifies, so
every constraint Kula relies on is written as a pattern or a bound.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from protocol.errors import SchemaError
from schemas import load_schema, schema_names

__all__ = ["load_schema", "reference_validate", "schema_names", "validate"]


def _refuse_retrieval(uri: str) -> Any:
    raise LookupError(f"schema {uri} is not shipped with Kula and is never fetched")


@functools.cache
def _all_schemas() -> dict[str, dict[str, Any]]:
    return {name: load_schema(name) for name in schema_names()}


def _schema(schema_name: str) -> dict[str, Any]:
    try:
        return _all_schemas()[schema_name]
    except KeyError:
        raise KeyError(f"no schema named {schema_name!r}") from None


@functools.cache
def _compiled(schema_name: str) -> jsonschema_rs.Validator:
    registry = jsonschema_rs.Registry(
        [(doc["$id"], doc) for doc in _all_schemas().values()], retriever=_refuse_retrieval
    )
    return jsonschema_rs.validator_for(
        _schema(schema_name),
        registry=registry,
        retriever=_refuse_retrieval,
        validate_formats=False,
    )


@functools.cache
def _reference_registry() -> Registry:
    resources = [
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
        for doc in _all_schemas().values()
    ]
    return Registry().with_resources(resources)


def _pointer(path: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join(
        "/" + str(part).replace("~", "~0").replace("/", "~1") for part in path
    )


def _raise(schema_name: str, errors: Iterable[tuple[str, str]]) -> None:
    found = sorted(set(errors))
    if found:
        pointer, reason = found[0]
        where = pointer or "the document root"
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise SchemaError(
            f"document does not match schema {schema_name!r}: {reason} at {where}{more}",
            errors=found,
        )


def validate(document: Any, schema_name: str) -> None:
    """Check ``document`` against the schema called ``schema_name``.

    Raises :class:`~protocol.errors.SchemaError` whose ``errors`` lists every
    violation as ``(json_pointer, reason)``, sorted, so the same document
    always gives the same report. KeyError for an unknown schema name.
    """
    errors = _compiled(schema_name).iter_errors(document)
    _raise(schema_name, ((_pointer(error.instance_path), error.message) for error in errors))


def reference_validate(document: Any, schema_name: str) -> None:
    """Like :func:`validate`, with the pure-Python reference implementation."""
    validator = Draft202012Validator(_schema(schema_name), registry=_reference_registry())
    errors = validator.iter_errors(document)
    _raise(schema_name, ((_pointer(error.absolute_path), error.message) for error in errors))
